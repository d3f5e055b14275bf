"""Why a worker's job failed, stored as a code and its parameters and put into words only when
shown, in the reader's language (as the backlog's NotBillable codes are).

A worker runs without a user's language: text written there would be stuck in whatever language it
ran in. Services raise `CodedError` for the refusals a worker records; anything else is recorded as
`REFUSED` (another system's refusal, in its own words) or `UNEXPECTED`.
"""

from django.utils.translation import gettext_lazy as _

from projinv.domain import DomainError, InvalidTransition


class Reason:
    NO_DETAILS = "no_details"
    NOT_EDITABLE = "not_editable"
    CONTRACT_NOT_ACTIVE = "contract_not_active"
    NOTHING_READY = "nothing_ready"
    INVOICES_CREATED = "invoices_created"
    REFUSED = "refused"
    UNEXPECTED = "unexpected"


MESSAGES = {
    Reason.NO_DETAILS: _("Invoice %(number)s has no details: there is nothing to confirm."),
    Reason.NOT_EDITABLE: _("Invoice %(number)s is %(status)s and cannot be confirmed."),
    Reason.CONTRACT_NOT_ACTIVE: _("Contract %(number)s is not active."),
    Reason.NOTHING_READY: _("Nothing on contract %(number)s is ready to invoice."),
    Reason.INVOICES_CREATED: _("Invoices %(numbers)s"),
    Reason.REFUSED: "%(message)s",
    Reason.UNEXPECTED: _("Unexpected error: %(error)s"),
}


def describe(code: str, params: dict) -> str:
    """The reason in words, in the active language; '' for no reason."""
    if not code:
        return ""
    from .models import Invoice  # the status labels; models import this module

    words = dict(params)
    if "status" in words and words["status"] in Invoice.Status.values:
        words["status"] = Invoice.Status(words["status"]).label
    template = MESSAGES.get(code)
    if template is None:  # a code from a newer release: say what is known rather than fail the page
        return f"{code} {params}"
    return str(template) % words


def code_of(error: Exception) -> tuple[str, dict]:
    """(code, params) to store for a failure."""
    if isinstance(error, CodedError):
        return error.code, error.params
    if isinstance(error, DomainError):
        return Reason.REFUSED, {"message": str(error)}
    return Reason.UNEXPECTED, {"error": f"{type(error).__name__}: {error}"}


class CodedError(DomainError):
    """A refusal that says itself in words now, and can be stored as (code, params) for later."""

    def __init__(self, code: str, **params):
        self.code, self.params = code, params
        super().__init__(describe(code, params))


class CodedTransition(CodedError, InvalidTransition):
    pass
