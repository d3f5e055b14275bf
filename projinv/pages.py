"""Shared page helpers: a permission-checked, filterable, sortable, paginated table page."""

import csv

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.text import capfirst
from django_filters import CharFilter, FilterSet
from django_filters.filterset import filterset_factory
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.paginators import LazyPaginator

from .domain import DomainError


def _numbered(field) -> bool:
    """A relation to records known by a unique number (contracts, projects, invoices, customers)."""
    model = getattr(field, "related_model", None)
    number = next((f for f in model._meta.fields if f.name == "number"), None) if model else None
    return bool(number and number.unique)


class NumberFilterSet(FilterSet):
    """Relations to numbered records are filtered by the number, typed, not picked from a list of every
    record: at issue #6's volumes the backlog's list of 2,000 contracts cost 70 ms of its 110 ms, and the
    actuals page listed every invoice there ever was."""

    @classmethod
    def filter_for_field(cls, field, field_name, lookup_expr="exact"):
        if field.many_to_one and _numbered(field):
            return CharFilter(field_name=f"{field_name}__number", lookup_expr="iexact",
                              label=capfirst(field.verbose_name))
        return super().filter_for_field(field, field_name, lookup_expr)


class TablePage(PermissionRequiredMixin, SingleTableMixin, FilterView):
    """A list page: subclasses set `permission_required`, `table_class`, `queryset`, `title`,
    `filterset_fields`, and optionally `bulk_actions` ((url name, label, permission) triples)."""

    raise_exception = True  # a logged-in user without the role gets 403, not a login loop
    template_name = "projinv/table_page.html"
    # The table paginates, lazily: no COUNT(*) over a million actuals for a page of 50 (decision D26).
    paginate_by = None
    table_pagination = {"per_page": 50, "paginator_class": LazyPaginator}
    title = ""
    intro = ""
    bulk_actions: tuple = ()

    @property
    def model(self):  # django-filter builds the filter form from the queryset's model
        return self.queryset.model

    def get_filterset_class(self):
        return self.filterset_class or filterset_factory(self.model, filterset=NumberFilterSet,
                                                         fields=self.filterset_fields)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            title=self.title, intro=self.intro,
            bulk_actions=[(url, label) for url, label, perm in self.bulk_actions if user.has_perm(perm)],
        )
        return context


def run_action(request, action, *, success, fallback):
    """Run a service for a POST; show its result or its refusal as a message, then redirect.

    A DomainError changed nothing (the service's transaction rolled back): the user sees why.
    """
    try:
        result = action()
    except DomainError as error:
        messages.error(request, str(error))
        return redirect(fallback)
    messages.success(request, success(result) if callable(success) else success)
    return redirect(fallback if not callable(getattr(result, "get_absolute_url", None)) else result)


def selected_ids(request) -> list[int]:
    try:
        return sorted({int(value) for value in request.POST.getlist("selection")})
    except ValueError:
        return []


def csv_response(filename: str, columns: list[tuple[str, str]], rows) -> HttpResponse:
    """Rows as a CSV download: `columns` are (key, header) pairs."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([str(header) for _key, header in columns])
    for row in rows:
        writer.writerow([row[key] for key, _header in columns])
    return response


LAZY_PAGES = {"paginator_class": LazyPaginator}
