"""People's work on integration journals (domain.md §4.8)."""

from django.db import transaction

from ..models import IntegrationJournal, IntegrationJournalLine


@transaction.atomic(using="finance")
def reset_journal_to_draft(*, journal_id: int, by: str) -> IntegrationJournal:
    """Reset an error journal to draft once its set-up is fixed: the next Import from staging posts its
    lines (or, if they still cannot post, puts the journal in error again with the reason)."""
    journal = IntegrationJournal.objects.select_for_update().get(pk=journal_id)
    journal.mark_reset(by=by)  # raises InvalidTransition unless in error
    journal.lines.filter(status=IntegrationJournalLine.Status.ERROR).update(
        status=IntegrationJournalLine.Status.DRAFT, error_code="", error_params={})
    return journal
