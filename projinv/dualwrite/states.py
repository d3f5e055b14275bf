"""Runtime state of the table maps: Running, Paused (changes queue up), Stopped (refused)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from .maps import MAPS, TableMap
from .models import MapState

State = MapState.State


def state_of(map_code: str) -> str:
    return MapState.objects.filter(map_code=map_code).values_list("state", flat=True).first() or State.RUNNING


def not_running() -> list[str]:
    return list(MapState.objects.exclude(state=State.RUNNING).values_list("map_code", flat=True))


def states() -> dict[str, MapState]:
    return {s.map_code: s for s in MapState.objects.all()}


def refuse_if_stopped(table_map: TableMap) -> None:
    """At the source: a stopped map refuses new changes, so the business action fails visibly."""
    if state_of(table_map.code) == State.STOPPED:
        raise DomainError(
            _("The table map “%(name)s” is stopped, so this change cannot be sent to the other system. "
              "Nothing was saved. An integration admin can start the map again.") % {"name": table_map.name}
        )


@transaction.atomic
def set_state(*, map_code: str, state: str, by: str, reason: str = "") -> bool:
    """Change a map's state; on resume, hand out everything it queued. Returns False if unchanged."""
    if map_code not in MAPS:
        raise DomainError(_("There is no table map %(code)s.") % {"code": map_code})
    if state not in State.values:
        raise DomainError(_("%(state)s is not a state of a table map.") % {"state": state})
    row, _created = MapState.objects.select_for_update().get_or_create(map_code=map_code)
    if not _created and row.state == state:
        return False
    row.state, row.changed_by, row.changed_at, row.reason = state, by, timezone.now(), reason
    row.save()
    if state == State.RUNNING:  # resume: everything the map held is due now, in order
        from . import relay

        source = MAPS[map_code].source
        model = relay.CHANGE_MODELS[source]
        held = list(model.objects.filter(map_code=map_code, status=model.Status.PENDING).order_by("priority", "pk")
                    .values_list("pk", flat=True))
        transaction.on_commit(lambda: relay.release_held(source, model, held), robust=True)
    return True
