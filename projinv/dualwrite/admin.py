from django.contrib import admin

from projinv.admin import ReadOnlyAdmin

from .models import DataverseChange, FinanceChange


@admin.register(DataverseChange, FinanceChange)
class ChangeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "map_code", "key", "row_count", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "map_code"]
    search_fields = ["key"]
