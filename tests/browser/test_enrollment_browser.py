"""Enrollment pages in a real browser: the htmx student search and live eligibility panel
on a desktop, running a waitlist on a phone."""

from datetime import date

import pytest

from classbook.core.tenancy import activate_account
from classbook.enrollment import services
from classbook.enrollment.models import Enrollment
from tests.browser.test_office_browser import log_in
from tests.enrollment.helpers import TERM_START, make_class, make_student

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enroll_with_live_search_and_eligibility(page, live_server, account_a, alice):
    with activate_account(account_a):
        klass = make_class(capacity=2)
        maya = make_student("Maya")
    log_in(page, live_server, account_a, "alice")
    page.get_by_role("heading", name="Good").wait_for()
    page.goto(f"{live_server.url}/alpha/office/enrollment/classes/{klass.pk}/enroll/")
    page.get_by_label("Find a student").fill("may")
    page.get_by_role("link", name="Maya Test").click()
    panel = page.locator("#enroll-preview")
    panel.get_by_text("Tue, Jan 5, 2027").wait_for()
    assert panel.locator("[data-seats-left]").inner_text().startswith("2")
    page.get_by_label("Start date").fill("2027-02-01")
    page.get_by_label("Start date").dispatch_event("change")
    panel.get_by_text("Tue, Feb 2, 2027").wait_for()  # the panel followed the new date
    page.get_by_role("button", name="Enroll").click()
    page.get_by_text(
        "Maya Test is enrolled in Level 2 Girls; first class Tue Feb 2, 2027."
    ).wait_for()
    with activate_account(account_a):
        assert Enrollment.objects.get(student=maya).start_date == date(2027, 2, 1)


def test_run_a_waitlist_on_a_phone(phone, live_server, account_a, alice):
    with activate_account(account_a):
        klass = make_class(capacity=1)
        seated = services.enroll(student=make_student("Seated"), klass=klass, start_date=TERM_START)
        waiting = make_student("Wren")
        services.waitlist_join(student=waiting, klass=klass, start_date=TERM_START)
        services.drop(enrollment=seated, effective_date=TERM_START, reason="Moved away")
    log_in(phone, live_server, account_a, "alice")
    phone.get_by_role("heading", name="Good").wait_for()
    phone.goto(f"{live_server.url}/alpha/office/enrollment/classes/{klass.pk}/waitlist/")
    phone.get_by_role("button", name="Offer free seats now").click()
    phone.get_by_text("Seat offered to Wren Test").wait_for()
    phone.get_by_role("button", name="Claim for family").click()
    phone.get_by_text("Offer claimed").wait_for()
    with activate_account(account_a):
        assert Enrollment.objects.get(student=waiting).source == "waitlist"
