"""The invoice pipeline as its users click through it, in headless Chromium, with a real cluster behind."""

import re

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from dataverse.models import Actual, Invoice
from finance.models import ActualStaging
from finance.services import importing
from projinv.dualwrite.models import Change, DataverseChange
from tests.e2e.conftest import ROOT, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "finance"])]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = ROOT / "var" / "test-screenshots" / "pipeline.png"


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("[name=username]").fill(username)
    page.locator("[name=password]").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("[name=username]")).to_be_visible()


def reload_until(page: Page, check, message: str, timeout=60):
    """Server-rendered pages only change on reload: reload until `check(page)` holds."""

    def reloaded():
        if check(page):
            return True
        page.reload()
        return check(page)

    wait_until(reloaded, timeout=timeout, interval=0.5, message=message)


def test_it_invoices_a_contract_through_the_portal(world, cluster, live_server):
    # The approved actuals reach finance through the cluster and are posted, as the import would do.
    synced = {a.uuid for a in Actual.objects.filter(skip_sync=False)}
    wait_until(lambda: ActualStaging.objects.filter(dataverse_actual_id__in=synced).count() == len(synced),
               message="the approved actuals to be staged")
    # ...and the master data they are posted by (the contract lines' billing rules, D50).
    wait_until(lambda: not DataverseChange.objects.filter(status=Change.Status.PENDING).exists(),
               message="the master data to reach finance")
    importing.import_from_staging(triggered_by="test")
    assert not ActualStaging.objects.exclude(status=ActualStaging.Status.POSTED).exists()

    # Django's ORM refuses to run while Playwright's event loop lives: no ORM calls in this block.
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(10_000)

        # The PM marks PC-1001's backlog ready, creates its invoice and confirms it.
        log_in(page, base, "pm")
        page.goto(f"{base}/dataverse/backlog/")
        rows = page.locator("tbody tr").filter(has_text="PC-1001")
        expect(rows.first).to_be_visible()
        for box in rows.locator("input[name=selection]").all():
            box.check()
        page.get_by_role("button", name="Mark ready to invoice").click()
        expect(page.get_by_role("status")).to_contain_text("actuals updated")

        page.goto(f"{base}/dataverse/contracts/")
        page.locator("tbody tr").filter(has_text="PC-1001").get_by_role("button", name="Create invoice").click()
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_contain_text("Proforma invoice INV-")
        invoice_number = re.search(r"INV-\d+", heading.inner_text()).group()
        invoice_url = page.url
        page.get_by_role("button", name="Confirm invoice").click()
        expect(page.get_by_test_id("invoice-status")).to_have_text("Confirmed")
        log_out(page)

        # The AR clerk finds the proposal the cluster delivered, imports its lines and posts it.
        log_in(page, base, "arclerk")
        page.goto(f"{base}/finance/proposals/")
        proposal_link = page.get_by_role("link", name=invoice_number, exact=True)
        reload_until(page, lambda pg: proposal_link.count() == 1, f"proposal {invoice_number} to be listed")
        proposal_link.click()
        status = page.get_by_test_id("proposal-status")

        def imported(pg):
            # The header may arrive before the billed sales: until they are staged, import again.
            if status.inner_text() == "Open":
                return True
            pg.get_by_role("button", name="Import lines").click()
            return status.inner_text() == "Open"

        wait_until(lambda: imported(page), interval=0.5, message=f"the lines of proposal {invoice_number}")
        page.get_by_role("button", name="Post").click()
        expect(page.get_by_test_id("proposal-status")).to_have_text("Posted")
        expect(page.get_by_test_id("project-invoice")).to_contain_text("PINV-")
        project_invoice = page.get_by_test_id("project-invoice").inner_text().split(" ")[0]
        log_out(page)

        # The PM sees the invoice Posted, with finance's invoice number, once the cluster writes it back.
        log_in(page, base, "pm")
        page.goto(invoice_url)
        reload_until(page, lambda pg: pg.get_by_test_id("invoice-status").inner_text() == "Posted",
                     f"invoice {invoice_number} to show Posted")
        expect(page.get_by_test_id("customer-invoice")).to_contain_text(project_invoice)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()

    invoice = Invoice.objects.get(number=invoice_number)
    assert (invoice.status, invoice.customer_invoice_number) == (Invoice.Status.POSTED, project_invoice)
