from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def get(row, key):
    return row.get(key)


@register.filter
def is_number(value):
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


@register.filter
def money(value):
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
