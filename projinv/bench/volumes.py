"""What `--scale` means in rows.

The issue's volumes (#6) do not all fit in the 10-minute budget on the 2-core machine: the bulk
stages (approve 200,000 entries, 400,000 actuals across the bridge and through the import,
2,000 invoices of 100 lines imported, posted and written back) take about 13 minutes there,
three rounds each: the services and their floors 10, their input 3 (15.3 min for the whole
`--issue-volumes --no-tenth` run, 2026-12-01). So the default volumes keep the issue's size where
a target depends on it (the 10,000-detail invoice with its 2-second target, the 1,000-line
end-to-end invoice, the 1,000,000 actuals behind the pages) and run the bulk stages at a tenth of
the issue's volume (D84). `--scale` multiplies all of them; `--issue-volumes` runs the issue's
table exactly.
"""

from dataclasses import dataclass

# One proforma invoice per regular contract and round, each with this many details (issue #6:
# 200,000 billed rows over 2,000 invoices).
ENTRIES_PER_CONTRACT = 100
ISSUE_CONTRACTS = 2_000
DEFAULT_BULK_FRACTION = 0.1  # of the issue's bulk volumes, at scale 1


@dataclass(frozen=True)
class Volumes:
    scale: float
    contracts: int  # regular T&M contracts: one invoice each per round
    big_invoice_details: int  # the "confirm one proforma invoice" invoice
    e2e_invoice_lines: int  # the end-to-end invoice
    page_actuals: int  # actuals in the database when the pages are timed
    customers: int
    resources: int
    issue_volumes: bool = False

    @property
    def entries(self) -> int:
        """Time entries approved per round; each makes a cost and an unbilled sales actual."""
        return self.contracts * ENTRIES_PER_CONTRACT

    @property
    def actuals(self) -> int:
        return 2 * self.entries

    @classmethod
    def for_scale(cls, scale: float, *, issue_volumes: bool = False) -> "Volumes":
        bulk = scale * (1 if issue_volumes else DEFAULT_BULK_FRACTION)
        return cls(
            scale=scale,
            contracts=max(2, round(ISSUE_CONTRACTS * bulk)),
            big_invoice_details=max(20, round(10_000 * scale)),
            e2e_invoice_lines=max(10, round(1_000 * scale)),
            page_actuals=round(1_000_000 * scale),
            customers=max(2, round(200 * bulk)),
            resources=max(4, round(500 * bulk)),
            issue_volumes=issue_volumes,
        )
