"""Alert rules: N failures of a map within M minutes send an email and may pause the map."""

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .maps import MAPS
from .models import AlertRule, DeliveryFailure, MapState

log = logging.getLogger(__name__)


def failure_recorded(*, map_code: str, source: str, change_id: int, error: str) -> list[AlertRule]:
    """Log the failure and fire every rule of the map whose threshold it crosses. Returns those fired."""
    DeliveryFailure.objects.create(map_code=map_code, source=source, change_id=change_id, error=error)
    fired = []
    for rule in AlertRule.objects.filter(map_code=map_code, active=True):
        if _fire(rule.pk):
            fired.append(rule)
    return fired


@transaction.atomic
def _fire(rule_id: int) -> bool:
    rule = AlertRule.objects.select_for_update().get(pk=rule_id)  # two failing workers fire it once
    now = timezone.now()
    since = now - timedelta(minutes=rule.window_minutes)
    if rule.last_fired_at and rule.last_fired_at >= since:
        return False
    count = DeliveryFailure.objects.filter(map_code=rule.map_code, failed_at__gte=since).count()
    if count < rule.max_errors:
        return False
    rule.last_fired_at = now
    rule.save(update_fields=["last_fired_at"])
    name = MAPS[rule.map_code].name
    if rule.pause_map:
        from .states import set_state

        set_state(map_code=rule.map_code, state=MapState.State.PAUSED, by=_("alert rule %(pk)s") % {"pk": rule.pk},
                  reason=_("%(count)d errors in %(minutes)d minutes") % {"count": count,
                                                                        "minutes": rule.window_minutes})
    recipients = [a.strip() for a in rule.email_to.split(",") if a.strip()]
    transaction.on_commit(lambda: _send(
        _("projinv: %(count)d dual-write errors on %(map)s") % {"count": count, "map": name},
        _("The table map “%(map)s” failed %(count)d times in the last %(minutes)d minutes.%(paused)s\n"
          "See the error queue in the integration pages.")
        % {"map": name, "count": count, "minutes": rule.window_minutes,
           "paused": _(" The map has been paused.") if rule.pause_map else ""},
        recipients,
    ), robust=True)
    log.warning("Alert rule %s fired for %s (%s errors)", rule.pk, rule.map_code, count)
    return True


def _send(subject, body, recipients):
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # noqa: BLE001 - the map is paused anyway; the log says the mail did not go
        log.exception("The alert e-mail to %s could not be sent", recipients)
