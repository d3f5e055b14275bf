"""What `--scale` means: the issue's volumes (scale 1) multiplied, with small floors of their own
so that a tiny scale still exercises every stage with more than one row."""

from dataclasses import dataclass

# One proforma invoice per regular contract and round, each with this many details (issue #6:
# 200,000 billed rows over 2,000 invoices).
ENTRIES_PER_CONTRACT = 100


@dataclass(frozen=True)
class Volumes:
    scale: float
    contracts: int  # regular T&M contracts: one invoice each per round
    big_invoice_details: int  # the "confirm one proforma invoice" invoice
    e2e_invoice_lines: int  # the end-to-end invoice
    page_actuals: int  # actuals in the database when the pages are timed
    customers: int
    resources: int

    @property
    def entries(self) -> int:
        """Time entries approved per round; each makes a cost and an unbilled sales actual."""
        return self.contracts * ENTRIES_PER_CONTRACT

    @property
    def actuals(self) -> int:
        return 2 * self.entries

    @classmethod
    def for_scale(cls, scale: float) -> "Volumes":
        return cls(
            scale=scale,
            contracts=max(2, round(2_000 * scale)),
            big_invoice_details=max(20, round(10_000 * scale)),
            e2e_invoice_lines=max(10, round(1_000 * scale)),
            page_actuals=round(1_000_000 * scale),
            customers=max(2, round(200 * scale)),
            resources=max(4, round(500 * scale)),
        )
