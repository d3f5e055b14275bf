"""The integration admin's view of the bridge: both outboxes, the error queue, retry."""

from django.contrib.auth.decorators import permission_required
from django.db.models import Count, Min, Q
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from projinv.pages import run_action, selected_ids

from . import errors, relay
from .maps import DATAVERSE, FINANCE, MAPS
from .models import Change
from .tables import ChangeTable


def _map_summary():
    rows = []
    for source, model in relay.CHANGE_MODELS.items():
        stats = model.objects.values("map_code").annotate(
            queued=Count("pk", filter=Q(status=Change.Status.PENDING)),
            failed=Count("pk", filter=Q(status=Change.Status.FAILED)),
            oldest=Min("created_at", filter=Q(status=Change.Status.PENDING)),
        )
        by_code = {s["map_code"]: s for s in stats}
        for table_map in MAPS.values():
            if table_map.source == source:
                rows.append({"map": table_map, **by_code.get(table_map.code, {"queued": 0, "failed": 0})})
    return rows


@permission_required("dualwrite.view_dataversechange", raise_exception=True)
def changes(request):
    tables = {}
    for source, model in relay.CHANGE_MODELS.items():
        table = ChangeTable(model.objects.order_by("-pk"), prefix=f"{source}-")
        RequestConfig(request, paginate={"per_page": 25}).configure(table)
        tables[source] = table
    return render(request, "dualwrite/changes.html", {
        "title": _("Dual-write"), "summary": _map_summary(),
        "sections": [(DATAVERSE, _("Dataverse → finance"), tables[DATAVERSE]),
                     (FINANCE, _("Finance → Dataverse"), tables[FINANCE])],
    })


@require_POST
@permission_required("dualwrite.manage_integration", raise_exception=True)
def retry(request, source):
    if source not in relay.CHANGE_MODELS:
        raise Http404
    ids = selected_ids(request)
    return run_action(request, lambda: errors.retry(source=source, change_ids=ids, by=request.user.get_username()),
                      success=lambda n: _("%(count)d changes queued again.") % {"count": n},
                      fallback="dualwrite:changes")


@require_POST
@permission_required("dualwrite.manage_integration", raise_exception=True)
def sweep(request):
    return run_action(request, relay.sweep,
                      success=lambda n: _("%(count)d due changes handed to the workers.") % {"count": n},
                      fallback="dualwrite:changes")
