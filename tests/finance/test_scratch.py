import pytest
from finance.models import *
from finance.services import importing
from tests.helpers import sync, run_pipeline_to_proposal

@pytest.mark.django_db(databases=["default", "finance"])
def test_x(world):
    sync()
    for s in ActualStaging.objects.order_by("pk").values():
        print(s)
    run = importing.import_from_staging(triggered_by="t")
    print(run.__dict__)
    for e in LedgerEntry.objects.values("voucher__number", "account", "posting_type", "amount", "accounting_amount"):
        print(e)
    inv, p = run_pipeline_to_proposal()
    print(p.__dict__)
    for l in p.lines.values():
        print(l)
