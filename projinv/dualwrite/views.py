"""The integration admin's pages: map states, both outboxes, the error queue, the activity log."""

import json
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Max, Min, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from dataverse.models import Invoice
from projinv.pages import run_action, selected_ids

from . import errors, relay, states
from . import reconciliation as reconciliation_service
from .filters import ChangeFilter
from .initial_sync import run_initial_sync
from .maps import DATAVERSE, FINANCE, MAPS, MASTER_DATA
from .models import AlertRule, Change, InvariantCheck, MapState
from .tables import ChangeTable

SOURCES = {DATAVERSE: gettext_lazy("Dataverse → finance"), FINANCE: gettext_lazy("Finance → Dataverse")}
VIEW, MANAGE = "dualwrite.view_dataversechange", "dualwrite.manage_integration"


def _source(request) -> str:
    source = request.GET.get("source") or request.POST.get("source") or DATAVERSE
    if source not in relay.CHANGE_MODELS:
        raise Http404
    return source


def _map_rows():
    """One row per map: its state, queue size, oldest queued change, failures and last error."""
    known = states.states()
    rows = []
    for source, model in relay.CHANGE_MODELS.items():
        stats = {s["map_code"]: s for s in model.objects.values("map_code").annotate(
            queued=Count("pk", filter=Q(status=Change.Status.PENDING)),
            failed=Count("pk", filter=Q(status=Change.Status.FAILED)),
            oldest=Min("created_at", filter=Q(status=Change.Status.PENDING)),
            last_failure=Max("pk", filter=~Q(last_error="")),
        )}
        last_errors = dict(model.objects.filter(pk__in=[s["last_failure"] for s in stats.values() if s["last_failure"]])
                           .values_list("map_code", "last_error"))
        for table_map in MAPS.values():
            if table_map.source == source:
                stat = stats.get(table_map.code, {})
                rows.append({"map": table_map, "state": known.get(table_map.code), "queued": stat.get("queued", 0),
                             "master_data": table_map.code in MASTER_DATA,
                             "failed": stat.get("failed", 0), "oldest": stat.get("oldest"),
                             "last_error": last_errors.get(table_map.code, "")})
    return rows


@permission_required(VIEW, raise_exception=True)
def overview(request):
    return render(request, "dualwrite/overview.html", {
        "title": _("Dual-write"), "maps": _map_rows(), "map_states": MapState.State.choices,
        "rules": AlertRule.objects.all(), "check": InvariantCheck.objects.first(),
    })


def _changes_page(request, *, template, base_filter, title):
    source = _source(request)
    model = relay.CHANGE_MODELS[source]
    changes = ChangeFilter(request.GET, queryset=model.objects.filter(**base_filter).order_by("-pk"))
    table = ChangeTable(changes.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, template, {"title": title, "table": table, "filter": changes, "source": source,
                                      "sources": SOURCES.items(),
                                      "groups": errors.error_groups(source) if "error" in template else None})


@permission_required(VIEW, raise_exception=True)
def error_queue(request):
    return _changes_page(request, template="dualwrite/error_queue.html", title=_("Error queue"),
                         base_filter={"status__in": [Change.Status.FAILED, Change.Status.DISMISSED]})


@permission_required(VIEW, raise_exception=True)
def activity_log(request):
    return _changes_page(request, template="dualwrite/activity_log.html", title=_("Activity log"), base_filter={})


def _by(request):
    return request.user.get_username()


@require_POST
@permission_required(MANAGE, raise_exception=True)
def map_state(request, code):
    state = request.POST.get("state", "")
    return run_action(
        request, lambda: states.set_state(map_code=code, state=state, by=_by(request),
                                          reason=request.POST.get("reason", "")),
        success=_("The table map is now %(state)s.") % {"state": dict(MapState.State.choices).get(state, state)},
        fallback="dualwrite:overview")


def _error_action(request, action, message, page="dualwrite:errors"):
    source = _source(request)
    return run_action(request, lambda: action(source, selected_ids(request)),
                      success=lambda n: message % {"count": n}, fallback=f"{reverse(page)}?source={source}")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def take(request):
    return _error_action(request, lambda s, ids: errors.take(source=s, change_ids=ids, by=_by(request)),
                         _("%(count)d changes taken."))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def retry(request):
    return _error_action(request, lambda s, ids: errors.retry(source=s, change_ids=ids, by=_by(request)),
                         _("%(count)d changes queued again."))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def retry_all(request):
    return _error_action(request, lambda s, ids: errors.retry_all(source=s, by=_by(request)),
                         _("%(count)d changes queued again."))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def dismiss(request):
    reason = request.POST.get("reason", "")
    return _error_action(request, lambda s, ids: errors.dismiss(source=s, change_ids=ids, by=_by(request),
                                                                reason=reason),
                         _("%(count)d changes dismissed."))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def replay(request):
    def replay_selection(source, ids):
        if not ids and request.POST.get("filtered"):  # every delivered change the filter shows
            return errors.replay_matching(source=source, filters=request.POST, by=_by(request))
        return errors.replay(source=source, change_ids=ids, by=_by(request))

    return _error_action(request, replay_selection, _("%(count)d changes replayed."), page="dualwrite:activity")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def initial_sync(request, code):
    return run_action(request, lambda: run_initial_sync(map_code=code),
                      success=lambda n: _("%(count)d records queued for finance.") % {"count": n},
                      fallback="dualwrite:overview")


@require_POST
@permission_required(MANAGE, raise_exception=True)
def sweep(request):
    return run_action(request, relay.sweep,
                      success=lambda n: _("%(count)d due changes handed to the workers.") % {"count": n},
                      fallback="dualwrite:overview")


RECONCILE = "dualwrite.view_reconciliation"


def _month(request) -> date:
    try:
        return datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


@permission_required(RECONCILE, raise_exception=True)
def reconciliation(request):
    month = _month(request)
    page = reconciliation_service.compare_period(month, page=request.GET.get("page"))
    without_voucher, examples = reconciliation_service.actuals_without_voucher()
    return render(request, "dualwrite/reconciliation.html", {
        "title": _("Reconciliation"), "month": month, "page": page, "rows": page.object_list,
        "without_voucher": without_voucher, "examples": examples, "wip": reconciliation_service.wip_summary(),
        "stuck_minutes": settings.DUALWRITE["STUCK_MINUTES"],
    })


@permission_required(RECONCILE, raise_exception=True)
def reconcile_invoice(request, number):
    rows = reconciliation_service.compare_invoices([number])
    if not rows:
        raise Http404
    return render(request, "dualwrite/reconcile_invoice.html", {"title": number, "row": rows[0]})


@require_POST
@permission_required(MANAGE, raise_exception=True)
def resync_invoice(request, number):
    get_object_or_404(Invoice, number=number)
    return run_action(
        request, lambda: reconciliation_service.resync_invoice(number),
        success=lambda n: _("Queued again: %(to)d actuals to finance, %(back)d accounting details back.")
        % {"to": n["to_finance"], "back": n["back"]},
        fallback=reverse("dualwrite:reconcile_invoice", args=[number]))


@require_POST
@permission_required(MANAGE, raise_exception=True)
def resync_actuals(request):
    # None selected: every actual still without its voucher.
    return run_action(request, lambda: reconciliation_service.resync_actuals(selected_ids(request) or None),
                      success=lambda n: _("Queued again: %(to)d actuals to finance, %(back)d accounting details "
                                          "back.") % {"to": n["to_finance"], "back": n["back"]},
                      fallback="dualwrite:reconciliation")


@permission_required(VIEW, raise_exception=True)
def change_detail(request, source, pk):
    model = relay.CHANGE_MODELS.get(source)
    if model is None:
        raise Http404
    change = get_object_or_404(model, pk=pk)
    payload = json.dumps(change.payload, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)
    return render(request, "dualwrite/change_detail.html", {
        "title": f"#{change.pk}", "change": change, "source": source, "map": MAPS.get(change.map_code),
        # A 1,000-row chunk is long; the first part shows its shape, the download has it all.
        "payload": payload[:20_000], "truncated": len(payload) > 20_000,
    })
