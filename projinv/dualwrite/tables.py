import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .maps import MAPS
from .models import Change


class ChangeTable(tables.Table):
    selection = tables.CheckBoxColumn(accessor="pk", orderable=False)
    map_code = tables.Column(verbose_name=_("table map"))

    class Meta:
        model = Change
        fields = ("selection", "pk", "map_code", "key", "row_count", "status", "attempts", "created_at",
                  "next_attempt_at", "delivered_at", "last_error")

    def render_map_code(self, value):
        table_map = MAPS.get(value)
        return table_map.name if table_map else value
