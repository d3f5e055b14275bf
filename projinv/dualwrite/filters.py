"""Which changes a page (or a replay "by filter") is about: one filter for both outboxes."""

from django_filters import FilterSet

from .models import DataverseChange


class ChangeFilter(FilterSet):
    class Meta:
        model = DataverseChange  # both outboxes share these fields; it filters either
        fields = {"key": ["icontains"], "ordering_key": ["exact"], "map_code": ["exact"], "status": ["exact"]}
