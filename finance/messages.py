"""Messages that workers write and people read later: stored as a code and parameters, translated
when shown (D47), so an accountant reads the troubleshooting log in their own language whatever the
language of the worker that wrote it.

A parameter may itself be a message (a dict with "code" and "params") or a list of them; those are
rendered too, and a list is joined with "; ".
"""

from django.utils.translation import gettext_lazy as _

MESSAGES = {
    "text": "%(text)s",  # free text from before message codes (not translatable)
    # Import from staging, per proposal (domain.md §2.8.3–4).
    "no_billed_sales": _("The invoice declares no billed sales: there is nothing to import."),
    "count_mismatch": _(
        "Invoice proposal wasn't processed because of mismatched billed sales actuals with Dataverse: "
        "Dataverse declared %(expected)d billed sales, %(staged)d are staged. The next run retries."),
    "unposted": _("Project transaction hasn't been posted yet for %(count)d billed sales: %(list)s. "
                  "The next run retries."),
    "unmapped_billing_types": _(
        "No line property is mapped to the billing type %(types)s in the legal entity's Project Operations "
        "parameters. The next run retries."),
    "on_account_profile_missing": _(
        "No fixed-price cost and revenue profile rule applies to the project and contract of milestone "
        "%(milestones)s: its revenue has nowhere to post. The next run retries."),
    "fixed_price_profile_missing": _(
        "No fixed-price cost and revenue profile rule applies to the project and contract of billed sale "
        "%(actuals)s: its revenue has nowhere to post. The next run retries."),
    "on_account_busy": _("Milestone %(milestones)s is also on another proposal imported in this run. "
                         "The next run retries."),
    # One billed sale still missing something (the items of "unposted").
    "missing_connection": _("%(actual)s (%(date)s, %(amount)s %(currency)s): billed sale without its transaction "
                            "connection yet"),
    "not_staged": _("%(actual)s (%(date)s, %(amount)s %(currency)s): not staged yet"),
    "waiting": _("%(actual)s (%(date)s, %(amount)s %(currency)s): waiting: %(reason)s"),
    "in_error_journal": _("%(actual)s (%(date)s, %(amount)s %(currency)s): failed to post, in error journal "
                          "%(journal)s"),
    "on_account_missing": _("milestone %(actual)s (%(date)s, %(amount)s %(currency)s): its on-account transaction "
                            "has not arrived yet, or would be invoiced below nothing or beyond its amount with what "
                            "is posted or on other proposals"),
    "milestone_missing": _("%(actual)s (%(date)s, %(amount)s %(currency)s): a milestone's billed sale that names "
                           "no milestone"),
    "not_posted": _("%(actual)s (%(date)s, %(amount)s %(currency)s): not posted yet"),
    # Integration journal lines that failed to post (domain.md §4.8).
    "posting_setup_missing": _("Legal entity %(entity)s has no posting set-up."),
    "account_not_set": _("The posting set-up of %(entity)s has no account for %(posting_type)s."),
    "account_missing": _("Main account %(account)s (%(posting_type)s) does not exist in the chart of accounts of "
                         "%(entity)s."),
}


def _choices():
    from .models import ActualStaging, LedgerEntry

    # Parameters stored as a choice's value, shown as its (translated) label.
    return {"posting_type": LedgerEntry.PostingType, "reason": ActualStaging.WaitReason}


def render(code: str, params: dict | None = None) -> str:
    """The message in the active language; an unknown code shows as itself rather than failing a page."""
    if not code:
        return ""
    template = MESSAGES.get(code)
    if template is None:
        return code
    choices = _choices()
    return str(template) % {key: _render_param(value, choices.get(key)) for key, value in (params or {}).items()}


def _render_param(value, choices=None):
    if isinstance(value, dict) and "code" in value:
        return render(value["code"], value.get("params"))
    if isinstance(value, list):
        return "; ".join(str(_render_param(item)) for item in value)
    if choices is not None and value in choices.values:
        return str(choices(value).label)
    return value
