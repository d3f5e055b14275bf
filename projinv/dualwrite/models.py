"""The bridge's tables.

Outboxes: one per source system, each in that system's database. A change is written in the
same transaction as the business change that caused it (so a rolled-back approval leaves no
change behind) and delivered at least once by the relay; the receiving side's unique business
keys make a second delivery a no-op. Delivered changes stay as the activity log until pruned.

Everything else (map states, failures, alert rules, invariant checks) lives in `default`.
"""

import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

KEY_LENGTH = 200  # a business key (a contract line's name is up to 200 characters)


class PayloadDecoder(json.JSONDecoder):
    """Numbers with a fraction come back as Decimal, never float: a payload the database built
    (`outbox.record_query`) carries amounts as JSON numbers, and a float would round them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parse_float=Decimal, **kwargs)


class Change(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (error queue)")
        DISMISSED = "dismissed", _("Dismissed")

    class Triage(models.TextChoices):
        NONE = "", "—"
        OPEN = "open", _("Open")
        PROCESSING = "processing", _("Processing")
        SOLVED = "solved", _("Solved")

    map_code = models.CharField(_("table map"), max_length=40)
    key = models.CharField(_("business key"), max_length=KEY_LENGTH)
    # Changes sharing an ordering key (an invoice number) are delivered by map priority, then in
    # the order they happened: the header before its actuals. Empty: no ordering constraint.
    ordering_key = models.CharField(_("ordering key"), max_length=KEY_LENGTH, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=1)
    payload = models.JSONField(_("payload"), encoder=DjangoJSONEncoder, decoder=PayloadDecoder)
    row_count = models.PositiveIntegerField(_("rows"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Set while a worker holds the change; a claim older than DUALWRITE["CLAIM_SECONDS"] is void.
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("delivery time (ms)"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # Why the relay holds the change back, as a code and its parameters, so that the page says it in
    # the reader's language: {"map_state": "paused"} or {"change": 12, "map": "invoices", "key": "INV-1"}.
    waiting = models.JSONField(_("waiting for"), default=dict, blank=True)
    replay_of = models.BigIntegerField(_("replay of"), null=True, blank=True)

    # The error queue: who took a failed change and who solved it (usernames: the finance
    # database cannot point at the users of `default`).
    triage = models.CharField(_("triage"), max_length=10, choices=Triage.choices, blank=True, default="")
    taken_by = models.CharField(_("taken by"), max_length=150, blank=True)
    solved_by = models.CharField(_("solved by"), max_length=150, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    class Meta:
        abstract = True
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="%(class)s_pending",
                         condition=models.Q(status="pending")),
            models.Index(fields=["ordering_key", "priority"], name="%(class)s_ordering",
                         condition=models.Q(status__in=["pending", "failed"]) & ~models.Q(ordering_key="")),
            models.Index(fields=["key"], name="%(class)s_key"),
        ]

    def __str__(self):
        return f"{self.map_code} {self.key}"

    @property
    def waiting_for(self) -> str:
        """The hold, said in the active language ("" when nothing holds the change)."""
        if state := self.waiting.get("map_state"):
            return _("its table map, which is %(state)s") % {"state": MapState.State(state).label}
        if "change" in self.waiting:
            from .maps import MAPS  # the maps import the systems' services; models stay light

            table_map = MAPS.get(self.waiting["map"])
            return _("change %(pk)s (%(map)s) of %(key)s") % {
                "pk": self.waiting["change"], "map": table_map.name if table_map else self.waiting["map"],
                "key": self.waiting["key"]}
        return ""

    @property
    def lag(self):
        return self.delivered_at - self.created_at if self.delivered_at else None


class DataverseChange(Change):
    """A change made in Dataverse, bound for finance. Lives in the `default` database."""

    source = "dataverse"

    class Meta(Change.Meta):
        verbose_name = _("Dataverse → finance change")
        verbose_name_plural = _("Dataverse → finance changes")
        permissions = [("manage_integration", _("Can retry, pause and resume dual-write")),
                       ("view_reconciliation", _("Can reconcile Dataverse with finance"))]


class FinanceChange(Change):
    """A change made in finance, bound for Dataverse. Lives in the `finance` database."""

    source = "finance"

    class Meta(Change.Meta):
        verbose_name = _("finance → Dataverse change")
        verbose_name_plural = _("finance → Dataverse changes")


class MapState(models.Model):
    """The runtime state of a table map (domain.md §4.11). No row means Running."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused: changes queue up")
        STOPPED = "stopped", _("Stopped: changes are refused")

    map_code = models.CharField(_("table map"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    changed_by = models.CharField(_("changed by"), max_length=150, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("table map state")
        verbose_name_plural = _("table map states")

    def __str__(self):
        return f"{self.map_code}: {self.get_state_display()}"


class DeliveryFailure(models.Model):
    """One failed delivery attempt, for alert rules and the error history."""

    map_code = models.CharField(_("table map"), max_length=40)
    source = models.CharField(_("source"), max_length=10)
    change_id = models.BigIntegerField(_("change"))
    error = models.TextField(_("error"))
    failed_at = models.DateTimeField(_("failed"), default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["map_code", "failed_at"], name="failure_by_map_and_time")]
        verbose_name = _("delivery failure")
        verbose_name_plural = _("delivery failures")


class AlertRule(models.Model):
    """N errors of a map within M minutes: send an email and, if the rule says so, pause the map."""

    map_code = models.CharField(_("table map"), max_length=40)
    max_errors = models.PositiveIntegerField(_("errors"), default=10)
    window_minutes = models.PositiveIntegerField(_("within minutes"), default=15)
    email_to = models.CharField(_("email to"), max_length=500, help_text=_("Comma-separated addresses."))
    pause_map = models.BooleanField(_("pause the map"), default=False)
    active = models.BooleanField(_("active"), default=True)
    last_fired_at = models.DateTimeField(_("last fired"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")

    def __str__(self):
        return f"{self.map_code}: {self.max_errors} in {self.window_minutes} min"


class InvariantCheck(models.Model):
    """One run of `check_invariants`: whether the whole system holds together, and what does not."""

    ran_at = models.DateTimeField(_("ran"), default=timezone.now)
    ok = models.BooleanField(_("all hold"))
    violations = models.JSONField(_("violations"), default=list, encoder=DjangoJSONEncoder)
    triggered_by = models.CharField(_("triggered by"), max_length=150, default="schedule")

    class Meta:
        ordering = ["-pk"]
        get_latest_by = "ran_at"
        verbose_name = _("invariant check")
        verbose_name_plural = _("invariant checks")

