"""A table page's rows rendered in one pass: the same cells as django-tables2's template, at a
fraction of its cost.

django-tables2 renders each cell through half a dozen template lookups (the column's attributes
are rebuilt, its `localize` read, the value resolved), and its row inspects the column's
`render()` signature again for every cell: about 2 ms a row of a dozen columns on this machine,
200 ms for a page of 100 invoice line details. Here what depends only on the column (its render
signature, its `<td>` attributes when they are static, whether it reads a plain name of the
row's model, the labels of its choices) is worked out once per page, and each cell is rendered as
the template would render it: the value django-tables2's row finds (a choice's label, the default
for empty values, the column's render and link), escaped and localised as `{{ cell }}` is. A field
with choices shows its label from a dictionary made once per page, where Django's
`get_FOO_display()` rebuilds (and translates) the whole dictionary for every cell. Cells of
related lookups, links and many-to-many columns go through django-tables2's own
`_get_and_render_with`. A table uses all this with `template_name = QUICK_ROWS` in its Meta;
tests/test_tables.py checks the markup is the one django-tables2's template makes.
"""

from functools import partialmethod
from inspect import getattr_static

from django.core.exceptions import FieldDoesNotExist
from django.template.base import render_value_in_context
from django.utils import formats
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.safestring import mark_safe
from django_tables2.columns import ManyToManyColumn
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.utils import signature

QUICK_ROWS = "projinv/quick_table.html"


class _Cells:
    """What one column needs to render a cell, worked out once per page."""

    def __init__(self, bound_column):
        self.column = bound_column
        self.args, self.takes_all = signature(bound_column.render)
        attrs = [bound_column._table.attrs, bound_column.column.attrs]
        # Attributes computed per cell (callables) are rebuilt per cell, as the template does.
        self.dynamic = any(callable(value) for a in attrs for key in ("td", "cell")
                           for value in (a.get(key) or {}).values())
        self.td = None if self.dynamic else bound_column.attrs["td"].as_html()
        self.model, self.attname, self.labels = self._direct(bound_column)
        self.name = bound_column.accessor.bits[0]
        self.value_only = self.args == ("value",) and not self.takes_all
        self.empty_values = bound_column.column.empty_values

    @staticmethod
    def _direct(bound_column):
        """(model, attname, {value: label} or None) when the column reads one name of the row's
        model (a field, shown by its choice's label if it has choices, or an attribute); else Nones,
        and its cells take django-tables2's own way (related lookups, links, many-to-many)."""
        model = getattr(bound_column._table.data, "model", None)
        accessor, column = bound_column.accessor, bound_column.column
        if model is None or len(accessor.bits) != 1 or isinstance(column, ManyToManyColumn | BaseLinkColumn):
            return None, None, None
        try:
            field = model._meta.get_field(accessor)
        except FieldDoesNotExist:
            return model, None, None  # a property or method: resolved like the accessor does
        if not field.choices:
            return model, None, None
        if not isinstance(getattr_static(model, f"get_{field.name}_display", None), partialmethod):
            return None, None, None  # a get_FOO_display() of the model's own
        return model, field.attname, {make_hashable(v): force_str(label) for v, label in field.flatchoices}

    def value(self, record):
        """The value `row._get_and_render_with` finds for a column in `_direct`."""
        if self.labels is not None:  # get_FOO_display(), with the labels translated once per page
            raw = getattr(record, self.attname)
            return force_str(self.labels.get(make_hashable(raw), raw), strings_only=True)
        try:
            value = getattr(record, self.name)
        except Exception:
            return None  # as django-tables2 does: the column's default is shown
        # A method is called the way the accessor calls it (unless it alters data, and so on).
        return self.column.accessor.resolve(record) if callable(value) else value

    def call_render(self, row, value):
        """`row._call_render`, with the render signature read once per page."""
        column = self.column
        if self.value_only:  # render(value), as most columns: no argument dictionary per cell
            content = column.render(value=value)
        else:
            kwargs = row._optional_cell_arguments(column, value)
            if not self.takes_all:
                if any(arg not in kwargs for arg in self.args):
                    return None  # as django-tables2's call_with_appropriate does
                kwargs = {arg: kwargs[arg] for arg in self.args}
            content = column.render(**kwargs)
        if column.link:
            return column.link(content, **row._optional_cell_arguments(column, value))
        return content

    def render(self, row, context) -> str:
        column, record = self.column, row.record
        if self.model is not None and isinstance(record, self.model):
            value = self.value(record)
            cell = column.default if value in self.empty_values else self.call_render(row, value)
        else:
            cell = row._get_and_render_with(column, render_func=lambda _column, value=None: self.call_render(
                row, value), default=column.default)
        td = self.td
        if td is None:
            column.current_value, column.current_record = cell, record
            td = column.attrs["td"].as_html()
        if column.localize is not None:  # {{ cell|localize }} or {{ cell|unlocalize }}
            cell = str(formats.localize(cell, use_l10n=column.localize))
        return f"<td {td}>{render_value_in_context(cell, context)}</td>"


def render_rows(table, context) -> str:
    """The `<tr>` rows of the table's current page, as `{% for row in table.paginated_rows %}` of
    django-tables2's table.html renders them ('' for none)."""
    cells = [_Cells(bound_column) for bound_column in table.columns]
    rows = []
    for row in table.paginated_rows:
        rendered = "".join(c.render(row, context) for c in cells)
        rows.append(f"<tr {row.attrs.as_html()}>{rendered}</tr>")
    return mark_safe("\n".join(rows))  # every part was escaped (or is the table's own markup) above
