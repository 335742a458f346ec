"""Enrollment office pages: who may open them, enrolling with live eligibility, refusals
shown next to the form, the staff override, rosters and their query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.accounts.services import location_save
from classbook.catalog.models import Meeting
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.enrollment import capacity, services
from classbook.enrollment.locking import SeatsBusy
from classbook.enrollment.models import Enrollment, Hold, WaitlistEntry
from classbook.enrollment.services import HoldRequest
from tests.conftest import make_staff, office_login
from tests.enrollment.helpers import TERM_START, make_class, make_student
from tests.enrollment.pages import FIRST, HTMX, NOW, class_at, url


@pytest.fixture(autouse=True)
def fixed_now():
    with clock.freeze(NOW):
        yield


@pytest.fixture
def setup(account_a, alice, bob):
    with activate_account(account_a):
        klass = make_class(capacity=2)
        maya = make_student("Maya")
        return {"klass": klass, "maya": maya}


def enroll_post(client, klass, student, **extra):
    data = {"student": student.pk, "klass": klass.pk, "start_date": "2027-01-04", **extra}
    return client.post(url("enroll_class", class_id=klass.pk), data)


# ---------------------------------------------------------------- who may open what


def page_urls(s):
    klass, maya = s["klass"], s["maya"]
    return {
        "enroll_class": url("enroll_class", class_id=klass.pk),
        "enroll_student": url("enroll_student", student_id=maya.pk),
        "preview": url("preview", f"student={maya.pk}&klass={klass.pk}"),
        "camp_book": url("camp_book", student_id=maya.pk),
        "roster": url("roster", class_id=klass.pk),
        "waitlist": url("waitlist", class_id=klass.pk),
        "requests": url("requests"),
        "student": url("student", student_id=maya.pk),
        "trial": url("trial", student_id=maya.pk),
        "makeup_issue": url("makeup_issue", student_id=maya.pk),
        "settings": url("settings"),
    }


def test_every_page_renders_for_the_owner(client, setup):
    office_login(client, setup["klass"].account, "alice")
    for name, path in page_urls(setup).items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
    assert "Requests" in client.get(url("requests")).content.decode()  # the nav item


def test_instructor_sees_rosters_but_not_enrollment_pages(client, setup):
    office_login(client, setup["klass"].account, "bob")
    pages = page_urls(setup)
    for name in ("roster", "waitlist"):
        assert client.get(pages[name]).status_code == 200, name
    for name in ("enroll_class", "enroll_student", "preview", "requests", "camp_book", "trial"):
        response = client.get(pages[name])
        assert response.status_code == 403, name
        assert "Enroll and drop" in response.content.decode()
    roster = client.get(pages["roster"]).content.decode()
    assert pages["enroll_class"] not in roster
    assert "enrollment/requests/" not in roster  # no Requests nav item without the permission
    waitlist = client.get(pages["waitlist"]).content.decode()
    assert "Offer free seats now" not in waitlist


def test_another_business_gets_404_and_anonymous_the_login(client, setup, charlie):
    pages = page_urls(setup)
    for path in pages.values():
        response = client.get(path)
        assert response.status_code == 302 and "/alpha/office/login/" in response["Location"]
    office_login(client, charlie.account, "charlie")
    for name, path in pages.items():
        assert client.get(path).status_code == 404, name
    assert enroll_post(client, setup["klass"], setup["maya"]).status_code == 404


def test_location_limited_staff_get_404_for_other_locations(client, account_a, setup):
    with activate_account(account_a):
        north = location_save(name="North", city="Austin", phone="(512) 555-0101")
        there = class_at(north, name="North Ninja")
    make_staff(account_a, "northonly", groups=("Front Desk",), location_ids=[north.pk])
    office_login(client, account_a, "northonly")
    main_class = setup["klass"]
    for name in ("roster", "waitlist", "enroll_class"):
        assert client.get(url(name, class_id=main_class.pk)).status_code == 404, name
        assert client.get(url(name, class_id=there.pk)).status_code == 200, name
    picker = client.get(url("enroll_student", "location=", student_id=setup["maya"].pk))
    assert "North Ninja" in picker.content.decode()
    assert main_class.name not in picker.content.decode()
    # a class id of another location in a form is refused too
    response = client.get(
        url("enroll_student", f"klass={main_class.pk}", student_id=setup["maya"].pk)
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- enrolling


def test_enroll_from_a_class_with_student_search(client, account_a, alice, setup, charlie):
    klass = setup["klass"]
    with activate_account(charlie.account):
        make_student("Maya", family=None)  # same name in another business
    office_login(client, account_a, "alice")
    found = client.get(
        url("enroll_class", "q=maya", class_id=klass.pk), HTTP_HX_TARGET="student-results", **HTMX
    )
    body = found.content.decode()
    assert found.status_code == 200 and "<html" not in body
    assert body.count("Maya Test") == 1 and f"student={setup['maya'].pk}" in body
    by_family = client.get(
        url("enroll_class", "q=maya family", class_id=klass.pk),
        HTTP_HX_TARGET="student-results",
        **HTMX,
    ).content.decode()
    assert "Maya Test" in by_family
    none = client.get(
        url("enroll_class", "q=zzz", class_id=klass.pk), HTTP_HX_TARGET="student-results", **HTMX
    ).content.decode()
    assert "No student matches" in none
    chosen = client.get(url("enroll_class", f"student={setup['maya'].pk}", class_id=klass.pk))
    page = chosen.content.decode()
    assert "Tue, Jan 5, 2027" in page  # first meeting on/after the default start
    assert 'data-seats-left="2"' in page
    response = enroll_post(client, klass, setup["maya"])
    assert response.status_code == 302
    assert response["Location"] == url("enroll_class", class_id=klass.pk)
    with activate_account(account_a):
        enrollment = Enrollment.objects.get(student=setup["maya"], klass=klass)
    assert enrollment.start_date == TERM_START and enrollment.created_by_id == alice.pk
    done = client.get(response["Location"]).content.decode()
    assert "Maya Test is enrolled in Level 2 Girls; first class Tue Jan 5, 2027." in done


def test_enroll_from_a_student_with_the_class_picker(client, account_a, setup):
    with activate_account(account_a):
        thursday = make_class(name="Thursday Tumble", weekdays=(3,))
    office_login(client, account_a, "alice")
    maya = setup["maya"]
    listing = client.get(
        url("enroll_student", "day=3", student_id=maya.pk), HTTP_HX_TARGET="class-results", **HTMX
    ).content.decode()
    assert "Thursday Tumble" in listing and "Level 2 Girls" not in listing
    assert "2 left" not in listing and "10 left" in listing
    empty = client.get(
        url("enroll_student", "day=6", student_id=maya.pk), HTTP_HX_TARGET="class-results", **HTMX
    ).content.decode()
    assert "No class matches" in empty
    page = client.get(url("enroll_student", f"klass={thursday.pk}", student_id=maya.pk))
    assert "Thu, Jan 7, 2027" in page.content.decode()
    response = client.post(
        url("enroll_student", student_id=maya.pk),
        {"klass": thursday.pk, "start_date": "2027-02-01", "end_date": "2027-03-01"},
    )
    assert response.status_code == 302 and response["Location"] == url(
        "student", student_id=maya.pk
    )
    with activate_account(account_a):
        enrollment = Enrollment.objects.get(klass=thursday)
    assert (enrollment.start_date, enrollment.end_date) == (date(2027, 2, 1), date(2027, 3, 1))


def test_the_preview_panel_shows_every_rule_and_seats(client, account_a, setup):
    with activate_account(account_a):
        strict = make_class(name="Big kids", min_age_months=10 * 12, gender_rule="boys")
        services.enroll(
            student=make_student("Ana"), klass=strict, start_date=TERM_START, override_reason="x"
        )
    office_login(client, account_a, "alice")
    panel = client.get(
        url("preview", f"student={setup['maya'].pk}&klass={strict.pk}&start_date=2027-02-01"),
        **HTMX,
    ).content.decode()
    assert "<html" not in panel
    assert "Too young" in panel and "for boys only" in panel
    assert "Passed:</span>" in panel and "Failed:</span>" in panel
    assert "Tue, Feb 2, 2027" in panel  # first meeting on/after the chosen start
    with activate_account(account_a):
        left = capacity.seats_left(strict, start=date(2027, 2, 1), now=NOW)
    assert f'data-seats-left="{left}"' in panel and left == 9
    assert "Not eligible: 2 rules failed" in panel
    nothing = client.get(url("preview"), **HTMX).content.decode()
    assert "Choose a student and a class" in nothing


def test_a_full_class_offers_the_waitlist_in_one_click(client, account_a, setup):
    klass, maya = setup["klass"], setup["maya"]
    with activate_account(account_a):
        for name in ("Ava", "Bea"):
            services.enroll(student=make_student(name), klass=klass, start_date=TERM_START)
    office_login(client, account_a, "alice")
    refused = enroll_post(client, klass, maya)
    page = refused.content.decode()
    assert refused.status_code == 400
    assert "is full on Jan 5, 2027 (2 of 2 seats taken)" in page
    assert 'name="action" value="waitlist"' in page and "Add to waitlist" in page
    joined = enroll_post(client, klass, maya, action="waitlist")
    assert joined.status_code == 302 and joined["Location"] == url("waitlist", class_id=klass.pk)
    with activate_account(account_a):
        entry = WaitlistEntry.objects.get(student=maya)
        assert not Enrollment.objects.filter(student=maya).exists()
    assert (entry.klass_id, entry.start_date, entry.status) == (klass.pk, TERM_START, "waiting")
    follow = client.get(joined["Location"]).content.decode()
    assert "number 1 in line" in follow and "Maya Test" in follow
    again = client.get(url("enroll_class", f"student={maya.pk}", class_id=klass.pk))
    assert "already on the waitlist" in again.content.decode()


@pytest.mark.parametrize(
    "student_kwargs, class_kwargs, expected",
    [
        ({"born": date(2023, 6, 1)}, {"min_age_months": 60}, "Too young"),
        ({"gender": "male"}, {"gender_rule": "girls"}, "for girls only"),
    ],
)
def test_eligibility_refusals_are_shown_and_nothing_saved(
    client, account_a, alice, student_kwargs, class_kwargs, expected
):
    with activate_account(account_a):
        klass = make_class(**class_kwargs)
        student = make_student("Kid", **student_kwargs)
    office_login(client, account_a, "alice")
    response = enroll_post(client, klass, student)
    assert response.status_code == 400
    assert expected in response.content.decode()
    with activate_account(account_a):
        assert not Enrollment.objects.exists()


def test_a_second_enrollment_is_refused(client, account_a, setup):
    klass, maya = setup["klass"], setup["maya"]
    with activate_account(account_a):
        services.enroll(student=maya, klass=klass, start_date=TERM_START)
    office_login(client, account_a, "alice")
    response = enroll_post(client, klass, maya, start_date="2027-02-01")
    assert response.status_code == 400
    assert "already enrolled in Level 2 Girls" in response.content.decode()
    listing = client.get(
        url("enroll_class", "q=maya", class_id=klass.pk), HTTP_HX_TARGET="student-results", **HTMX
    ).content.decode()
    assert "Enrolled</span>" in listing and f"student={maya.pk}" not in listing


@pytest.mark.parametrize(
    "data, message",
    [
        ({"start_date": "2026-11-20"}, "in the past"),
        ({"start_date": "not a date"}, "Enter a valid date"),
        ({"start_date": "2027-02-01", "end_date": "2027-01-15"}, "before the start date"),
    ],
)
def test_bad_dates_are_refused_next_to_the_field(client, account_a, setup, data, message):
    office_login(client, account_a, "alice")
    response = enroll_post(client, setup["klass"], setup["maya"], **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(account_a):
        assert not Enrollment.objects.exists()


def test_override_needs_a_reason_and_is_recorded(client, account_a, setup):
    klass = setup["klass"]
    with activate_account(account_a):
        for name in ("Ava", "Bea"):
            services.enroll(student=make_student(name), klass=klass, start_date=TERM_START)
    office_login(client, account_a, "alice")
    page = client.get(url("enroll_class", f"student={setup['maya'].pk}", class_id=klass.pk))
    assert 'name="override_reason"' in page.content.decode()
    no_reason = enroll_post(client, klass, setup["maya"], override="on")
    assert no_reason.status_code == 400
    assert "Say why you override the rules." in no_reason.content.decode()
    done = enroll_post(
        client, klass, setup["maya"], override="on", override_reason="Sibling already in class"
    )
    assert done.status_code == 302
    with activate_account(account_a):
        enrollment = Enrollment.objects.get(student=setup["maya"])
        assert enrollment.override_reason == "Sibling already in class"
        assert capacity.class_taken(klass, [FIRST], now=NOW)[FIRST] == 3  # over capacity
    roster = client.get(url("roster", class_id=klass.pk)).content.decode()
    assert "more than the capacity" in roster and 'data-count="seats-left">0' in roster


def test_front_desk_without_override_sees_no_field_and_a_forged_one_is_refused(
    client, account_a, setup
):
    klass = setup["klass"]
    with activate_account(account_a):
        for name in ("Ava", "Bea"):
            services.enroll(student=make_student(name), klass=klass, start_date=TERM_START)
    make_staff(account_a, "desk", groups=("Front Desk",))
    office_login(client, account_a, "desk")
    page = client.get(url("enroll_class", f"student={setup['maya'].pk}", class_id=klass.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="override' not in body and "Override" not in body
    forged = enroll_post(client, klass, setup["maya"], override="on", override_reason="Trust me")
    assert forged.status_code == 403
    assert "Enroll over capacity or outside the eligibility rules" in forged.content.decode()
    reason_only = enroll_post(client, klass, setup["maya"], override_reason="Trust me")
    assert reason_only.status_code == 403
    with activate_account(account_a):
        assert not Enrollment.objects.filter(student=setup["maya"]).exists()
    # the ordinary way still works for them
    plain = enroll_post(client, klass, setup["maya"], action="waitlist")
    assert plain.status_code == 302


def test_seats_busy_is_a_409_not_a_500(client, account_a, setup, monkeypatch):
    def busy(**kwargs):
        raise SeatsBusy()

    monkeypatch.setattr(services, "enroll", busy)
    monkeypatch.setattr(services, "waitlist_offer_seats", busy)
    office_login(client, account_a, "alice")
    response = enroll_post(client, setup["klass"], setup["maya"])
    assert response.status_code == 409
    assert "Please try again in a moment" in response.content.decode()
    offer = client.post(url("waitlist_offer", class_id=setup["klass"].pk))
    assert offer.status_code == 409 and "try again" in offer.content.decode()


# ---------------------------------------------------------------- roster


def test_roster_counts_match_capacity_and_mark_visits(client, account_a, setup):
    with activate_account(account_a):
        klass = make_class(name="Big room", capacity=10)
        services.enroll(student=make_student("Ava"), klass=klass, start_date=TERM_START)
        services.enroll(
            student=make_student("Bea"), klass=klass, start_date=TERM_START, end_date=FIRST
        )
        services.enroll(student=make_student("Cy"), klass=klass, start_date=date(2027, 1, 12))
        first = Meeting.objects.get(klass=klass, date=FIRST)
        services.trial_book(student=make_student("Tia"), meeting=first)
        token = services.makeup_issue(
            student=make_student("Mo"), reason="Missed", expires_on=date(2027, 3, 1)
        )
        services.makeup_redeem(token=token, meeting=first)
        services.hold_seats(cart="c1", requests=[HoldRequest(klass=klass, start_date=TERM_START)])
        services.waitlist_join(student=make_student("Wes"), klass=klass, start_date=TERM_START)
        services.waitlist_offer_seats(klass=klass)
        taken = capacity.class_taken(klass, [FIRST], now=NOW)[FIRST]
    office_login(client, account_a, "bob")  # an instructor may read rosters
    page = client.get(url("roster", class_id=klass.pk)).content.decode()  # next meeting
    assert "Tuesday, January 5, 2027" in page
    for key, value in {
        "enrolled": 2,
        "trials": 1,
        "makeups": 1,
        "holds": 1,
        "offers": 1,
        "seats-left": 10 - taken,
    }.items():
        assert f'data-count="{key}">{value}' in page, key
    assert taken == 6
    assert 'data-kind="trial"' in page and 'data-kind="makeup"' in page
    assert "Ava Test" in page and "Cy Test" not in page
    assert "Last class" in page and "First class" in page
    assert "7y 8m" in page  # age on the roster date (born May 1, 2019)
    assert '?date=2027-01-12"' in page and "First meeting" in page  # no previous meeting
    later = client.get(url("roster", "date=2027-01-12", class_id=klass.pk)).content.decode()
    assert "Cy Test" in later and "Bea Test" not in later and '?date=2027-01-05"' in later
    with activate_account(account_a):
        assert (
            capacity.class_taken(klass, [date(2027, 1, 12)], now=NOW)[date(2027, 1, 12)] == 4
        )  # Ava, Cy, the hold and the offer
    assert 'data-count="seats-left">6' in later
    off_day = client.get(url("roster", "date=2027-01-06", class_id=klass.pk)).content.decode()
    assert "does not meet on Jan 6, 2027" in off_day
    junk = client.get(url("roster", "date=yesterday", class_id=klass.pk))
    assert junk.status_code == 200


def test_roster_of_an_empty_class_and_a_class_without_meetings(client, account_a, setup):
    office_login(client, account_a, "alice")
    page = client.get(url("roster", class_id=setup["klass"].pk)).content.decode()
    assert "No students on Jan 5, 2027" in page
    with activate_account(account_a):
        Meeting.objects.filter(klass=setup["klass"]).delete()
    empty = client.get(url("roster", class_id=setup["klass"].pk)).content.decode()
    assert "no meetings yet" in empty


def test_roster_query_count_does_not_grow_with_students(
    client, account_a, setup, django_assert_max_num_queries
):
    klass = setup["klass"]
    with activate_account(account_a):
        klass.capacity = 40
        klass.save(update_fields=["capacity"])
        first = Meeting.objects.get(klass=klass, date=FIRST)
        services.enroll(student=make_student("One"), klass=klass, start_date=TERM_START)
        services.trial_book(student=make_student("Visitor"), meeting=first)
    office_login(client, account_a, "alice")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("roster", class_id=klass.pk)).status_code == 200
    with activate_account(account_a):
        for i in range(15):
            services.enroll(student=make_student(f"Kid{i}"), klass=klass, start_date=TERM_START)
        for i in range(5):
            services.trial_book(student=make_student(f"Trial{i}"), meeting=first)
        Hold.objects.create(
            cart="x", klass=klass, start_date=TERM_START, expires_at=NOW.replace(year=2027)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url("roster", class_id=klass.pk)).content.decode()
    assert "Kid14 Test" in page and 'data-count="enrolled">16' in page
