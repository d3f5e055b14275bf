import django_tables2 as tables
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .maps import MAPS
from .models import Change


class ChangeTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    pk = tables.Column(verbose_name="#", linkify=lambda record: reverse(
        "dualwrite:change_detail", args=[record.source, record.pk]))
    map_code = tables.Column(verbose_name=_("table map"))
    lag = tables.Column(verbose_name=_("lag"), orderable=False)
    waiting_for = tables.Column(verbose_name=_("waiting for"), orderable=False)

    class Meta:
        model = Change
        fields = ("selection", "pk", "map_code", "key", "ordering_key", "row_count", "status", "attempts",
                  "created_at", "delivered_at", "lag", "duration_ms", "waiting_for", "last_error", "triage",
                  "taken_by", "solved_by", "resolution", "replay_of")

    def render_map_code(self, value):
        table_map = MAPS.get(value)
        return table_map.name if table_map else value
