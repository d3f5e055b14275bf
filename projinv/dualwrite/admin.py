from django.contrib import admin

from projinv.admin import ReadOnlyAdmin

from .models import AlertRule, DataverseChange, DeliveryFailure, FinanceChange, InvariantCheck, MapState


@admin.register(DataverseChange, FinanceChange)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "map_code", "key", "row_count", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "map_code", "triage"]
    search_fields = ["key", "ordering_key"]


@admin.register(MapState)
class MapStateAdmin(ReadOnlyAdmin):
    """Changed on the Dual-write page, through the service, so a resume hands out what was queued."""

    list_display = ["map_code", "state", "changed_by", "changed_at", "reason"]


@admin.register(DeliveryFailure, InvariantCheck)
class HistoryAdmin(ReadOnlyAdmin):
    pass


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["map_code", "max_errors", "window_minutes", "email_to", "pause_map", "active", "last_fired_at"]
    readonly_fields = ["last_fired_at"]
