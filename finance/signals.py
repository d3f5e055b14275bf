"""Finance's domain signals. Sent only by services, inside their transaction on the finance database."""

from django.dispatch import Signal

# staging_ids: staging rows that just received their accounting details (voucher, rate, amount).
accounting_details_ready = Signal()
# proposal, invoice: a proposal was posted as a project invoice (or credit note).
proposal_posted = Signal()
