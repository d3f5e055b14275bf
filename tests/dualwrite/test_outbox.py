"""outbox.record_query: the database builds the changes record_rows would build from the same rows."""

import pytest

from dataverse import selectors
from dataverse.models import Actual
from projinv.dualwrite import outbox
from projinv.dualwrite.maps import ACTUALS
from projinv.dualwrite.models import DataverseChange

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def as_text(rows):
    return [{name: None if value is None else str(value) for name, value in row.items()} for row in rows]


def test_it_queues_the_rows_record_rows_would_in_the_same_chunks(world, settings):
    settings.DUALWRITE = {**settings.DUALWRITE, "CHUNK_ROWS": 2}
    ids = list(Actual.objects.filter(skip_sync=False).order_by("pk").values_list("pk", flat=True))
    DataverseChange.objects.all().delete()
    by_python = outbox.record_rows(ACTUALS, selectors.synced_actual_rows(ids))
    by_database = DataverseChange.objects.filter(pk__in=outbox.record_query(ACTUALS, selectors.synced_actuals(ids)))

    def shape(changes):
        return sorted((c.key, c.ordering_key, c.row_count, c.priority, c.status) for c in changes)

    assert len(ids) > 2 and shape(by_database) == shape(by_python)
    for mine, theirs in zip(sorted(by_database, key=lambda c: c.key), sorted(by_python, key=lambda c: c.key),
                            strict=True):
        assert as_text(mine.payload) == as_text(theirs.payload)  # amounts read back as Decimal, not float


def test_it_keys_a_change_by_its_first_row_and_how_many_follow(world):
    ids = list(Actual.objects.filter(skip_sync=False, invoice=None).order_by("pk").values_list("pk", flat=True))
    [change_id] = outbox.record_query(ACTUALS, selectors.synced_actuals(ids))
    change = DataverseChange.objects.get(pk=change_id)
    first = Actual.objects.get(pk=ids[0])
    assert change.key == f"{first.uuid} (+{len(ids) - 1})" and change.row_count == len(ids)
    assert [row["msdyn_actualid"] for row in change.payload] == [
        str(u) for u in Actual.objects.filter(pk__in=ids).order_by("pk").values_list("uuid", flat=True)]


def test_it_queues_nothing_for_no_rows(world):
    assert outbox.record_query(ACTUALS, selectors.synced_actuals([])) == []
