from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from projinv.tables import render_rows

register = template.Library()


@register.simple_tag(takes_context=True)
def table_rows(context, table):
    """The rows of a table's page (projinv/quick_table.html)."""
    return render_rows(table, context)


@register.filter
def get(row, key):
    return row.get(key)


@register.filter
def is_number(value):
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


@register.filter
def money(value):
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)


@register.filter
def duration(value):
    """A lag as a person reads it: 2 s, 3 min 5 s, 1 h 4 min."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": seconds}
    return _("%(s)d s") % {"s": seconds}
