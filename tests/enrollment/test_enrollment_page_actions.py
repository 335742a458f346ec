"""Running a waitlist and the requests queue from the office, a student's history with
drop, transfer, trials and makeups, camp bookings, the timers, and the includes other
apps' pages show."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from classbook.catalog.models import CampOption, Meeting
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.enrollment import services
from classbook.enrollment.models import (
    CampBooking,
    Enrollment,
    EnrollmentSettings,
    MakeupToken,
    Visit,
    WaitlistEntry,
)
from classbook.staff.selectors import effective_permissions
from tests.conftest import make_staff, office_login
from tests.enrollment.helpers import (
    TERM_END,
    TERM_START,
    camp_days,
    make_camp,
    make_class,
    make_student,
)
from tests.enrollment.pages import FIRST, NOW, url
from tests.ledger.helpers import make_family


@pytest.fixture(autouse=True)
def fixed_now():
    with clock.freeze(NOW):
        yield


# ---------------------------------------------------------------- waitlists


@pytest.fixture
def full_class(account_a, alice, bob):
    """A class of 1 with its seat taken and two students waiting."""
    with activate_account(account_a):
        klass = make_class(capacity=1)
        seated = services.enroll(student=make_student("Seated"), klass=klass, start_date=TERM_START)
        first = services.waitlist_join(
            student=make_student("First"), klass=klass, start_date=TERM_START
        )
        second = services.waitlist_join(
            student=make_student("Second"), klass=klass, start_date=TERM_START
        )
    return {"klass": klass, "seated": seated, "first": first, "second": second}


def test_waitlist_page_shows_order_and_status(client, account_a, full_class):
    office_login(client, account_a, "alice")
    page = client.get(url("waitlist", class_id=full_class["klass"].pk)).content.decode()
    assert page.index("First Test") < page.index("Second Test")
    assert page.count('data-status="waiting"') == 2
    assert "0 seats left" in page
    assert "Offer free seats now" in page
    assert "keeps the seat for 24 hours" in page and url("settings") in page


def test_run_a_waitlist_offer_claim_and_decline(client, account_a, full_class):
    klass = full_class["klass"]
    office_login(client, account_a, "alice")
    nothing = client.post(url("waitlist_offer", class_id=klass.pk), follow=True)
    assert "No seat is free" in nothing.content.decode()
    with activate_account(account_a):
        services.drop(enrollment=full_class["seated"], effective_date=TERM_START, reason="Moved")
    offered = client.post(url("waitlist_offer", class_id=klass.pk), follow=True)
    body = offered.content.decode()
    assert "Seat offered to First Test" in body
    assert "Nov 22 at 9:00 AM" in body  # 24 h, in the account's time zone (Chicago)
    assert "Nov 22, 9:00 AM CST" in body  # the deadline column
    assert body.count('data-status="offered"') == 1
    with activate_account(account_a):
        first = WaitlistEntry.objects.get(pk=full_class["first"].pk)
    assert first.status == "offered"
    declined = client.post(url("entry_decline", waitlist_entry_id=first.pk), follow=True)
    assert "declined the offer" in declined.content.decode()
    client.post(url("waitlist_offer", class_id=klass.pk))
    with activate_account(account_a):
        second = WaitlistEntry.objects.get(pk=full_class["second"].pk)
        assert second.status == "offered"
    claimed = client.post(url("entry_claim", waitlist_entry_id=second.pk), follow=True)
    assert "Offer claimed" in claimed.content.decode()
    with activate_account(account_a):
        enrollment = Enrollment.objects.get(student=second.student, klass=klass)
        assert enrollment.source == "waitlist"
        assert WaitlistEntry.objects.get(pk=first.pk).status == "declined"
    again = client.post(url("entry_claim", waitlist_entry_id=second.pk), follow=True)
    assert "no longer open" in again.content.decode()


def test_claiming_an_expired_offer_is_refused_on_the_page(client, account_a, full_class):
    with activate_account(account_a):
        services.drop(enrollment=full_class["seated"], effective_date=TERM_START, reason="Moved")
        services.waitlist_offer_seats(klass=full_class["klass"])
    office_login(client, account_a, "alice")
    with clock.freeze(NOW + timedelta(hours=25)):
        page = client.get(url("waitlist", class_id=full_class["klass"].pk)).content.decode()
        assert "Offer expired" in page
        response = client.post(
            url("entry_claim", waitlist_entry_id=full_class["first"].pk), follow=True
        )
    assert "no longer open" in response.content.decode()
    with activate_account(account_a):
        assert not Enrollment.objects.filter(student=full_class["first"].student).exists()


def test_remove_from_the_waitlist_and_back_to_the_student(client, account_a, full_class):
    office_login(client, account_a, "alice")
    entry = full_class["second"]
    student_page = url("student", student_id=entry.student_id)
    response = client.post(url("entry_remove", waitlist_entry_id=entry.pk), {"next": student_page})
    assert response.status_code == 302 and response["Location"] == student_page
    with activate_account(account_a):
        assert WaitlistEntry.objects.get(pk=entry.pk).status == "left"
    offsite = client.post(
        url("entry_remove", waitlist_entry_id=full_class["first"].pk),
        {"next": "https://evil.example/"},
    )
    assert offsite["Location"] == url("waitlist", class_id=full_class["klass"].pk)
    twice = client.post(url("entry_remove", waitlist_entry_id=entry.pk), follow=True)
    assert "already closed" in twice.content.decode()


def test_waitlist_actions_need_the_enroll_permission(client, account_a, full_class):
    office_login(client, account_a, "bob")
    for name, kwargs in (
        ("waitlist_offer", {"class_id": full_class["klass"].pk}),
        ("entry_claim", {"waitlist_entry_id": full_class["first"].pk}),
        ("entry_decline", {"waitlist_entry_id": full_class["first"].pk}),
        ("entry_remove", {"waitlist_entry_id": full_class["first"].pk}),
    ):
        assert client.post(url(name, **kwargs)).status_code == 403, name


def test_camp_day_waitlist(client, account_a, alice):
    with activate_account(account_a):
        camp = make_camp(day_capacity=1)
        option = CampOption.objects.get(camp=camp)
        days = camp_days(camp)
        booked = services.camp_book(
            student=make_student("Camper"), camp=camp, option=option, days=days[:1]
        )[0]
        waiting = services.camp_waitlist_join(
            student=make_student("Hopeful"), camp_option=option, days=days[:1]
        )[0]
    office_login(client, account_a, "alice")
    page = client.get(url("camp_waitlist", f"day={days[0].pk}", camp_id=camp.pk)).content.decode()
    assert "Camper Test" in page and "Hopeful Test" in page
    client.post(url("booking_cancel", booking_id=booked.pk))
    response = client.post(url("camp_day_offer", camp_day_id=days[0].pk), follow=True)
    assert "Seat offered to Hopeful Test" in response.content.decode()
    claimed = client.post(url("entry_claim", waitlist_entry_id=waiting.pk))
    assert claimed["Location"].endswith(f"?day={days[0].pk}")
    with activate_account(account_a):
        assert CampBooking.objects.get(student=waiting.student).status == "active"
    assert client.get(url("camp_waitlist", "day=999999", camp_id=camp.pk)).status_code == 404


# ---------------------------------------------------------------- camps


def test_book_chosen_camp_days_with_seats_per_day(client, account_a, alice):
    with activate_account(account_a):
        camp = make_camp(day_capacity=1)
        option = CampOption.objects.get(camp=camp)
        days = camp_days(camp)
        services.camp_book(student=make_student("Early"), camp=camp, option=option, days=days[1:2])
        maya = make_student("Maya")
    office_login(client, account_a, "alice")
    listing = client.get(url("camp_book", student_id=maya.pk)).content.decode()
    assert "Summer Ninja Week" in listing
    page = client.get(url("camp_book", f"camp={camp.pk}", student_id=maya.pk)).content.decode()
    assert "Tue Jun 15 — full" in page and "Mon Jun 14 — 1 seat left" in page
    none = client.post(url("camp_book", student_id=maya.pk), {"camp": camp.pk, "option": option.pk})
    assert none.status_code == 400 and "Choose one or more days" in none.content.decode()
    full = client.post(
        url("camp_book", student_id=maya.pk),
        {"camp": camp.pk, "option": option.pk, "days": [days[0].pk, days[1].pk]},
    )
    assert full.status_code == 400
    assert "full on Jun 15, 2027" in full.content.decode()
    assert "Add to the waitlist of the full days" in full.content.decode()
    waitlisted = client.post(
        url("camp_book", student_id=maya.pk),
        {
            "camp": camp.pk,
            "option": option.pk,
            "days": [days[0].pk, days[1].pk],
            "action": "waitlist",
        },
    )
    assert waitlisted.status_code == 302
    booked = client.post(
        url("camp_book", student_id=maya.pk),
        {"camp": camp.pk, "option": option.pk, "days": [days[0].pk, days[2].pk]},
    )
    assert booked.status_code == 302
    with activate_account(account_a):
        assert sorted(
            CampBooking.objects.filter(student=maya).values_list("camp_day__date", flat=True)
        ) == [date(2027, 6, 14), date(2027, 6, 16)]
        entry = WaitlistEntry.objects.get(student=maya)
    assert entry.camp_day_id == days[1].pk  # only the full day


def test_book_a_whole_camp(client, account_a, alice):
    with activate_account(account_a):
        camp = make_camp(signup_mode="whole")
        option = CampOption.objects.get(camp=camp)
        maya = make_student("Maya")
    office_login(client, account_a, "alice")
    page = client.get(url("camp_book", f"camp={camp.pk}", student_id=maya.pk)).content.decode()
    assert 'name="days"' not in page
    response = client.post(
        url("camp_book", student_id=maya.pk), {"camp": camp.pk, "option": option.pk}
    )
    assert response.status_code == 302
    with activate_account(account_a):
        assert CampBooking.objects.filter(student=maya).count() == 5


# ---------------------------------------------------------------- requests


@pytest.fixture
def requests_setup(account_a, alice, bob):
    with activate_account(account_a):
        klass = make_class()
        full = make_class(name="Full", capacity=1, weekdays=(3,))
        services.enroll(student=make_student("Occupant"), klass=full, start_date=TERM_START)
        maya = make_student("Maya")
        enrollment = services.enroll(student=maya, klass=klass, start_date=TERM_START)
        drop = services.request_create(
            kind="drop",
            student=maya,
            enrollment=enrollment,
            effective_date=date(2027, 2, 1),
            message="We are moving",
        )
        move = services.request_create(
            kind="transfer",
            student=maya,
            enrollment=enrollment,
            target_class=full,
            effective_date=date(2027, 2, 1),
        )
    return {"klass": klass, "full": full, "maya": maya, "drop": drop, "move": move}


def test_requests_queue_lists_pending_first_and_filters(client, account_a, requests_setup):
    with activate_account(account_a):
        services.request_decide(request=requests_setup["drop"], approve=False, reply="Call us")
    office_login(client, account_a, "alice")
    page = client.get(url("requests")).content.decode()
    move, drop = requests_setup["move"].pk, requests_setup["drop"].pk
    assert page.index(f'data-request="{move}"') < page.index(f'data-request="{drop}"')
    assert 'data-pending="1"' in page
    only_drops = client.get(url("requests", "kind=drop")).content.decode()
    assert f'data-request="{drop}"' in only_drops and f'data-request="{move}"' not in only_drops
    none = client.get(url("requests", "kind=trial&status=pending")).content.decode()
    assert "No request matches" in none


def test_approve_a_request_and_see_what_was_done(client, account_a, alice, requests_setup):
    office_login(client, account_a, "alice")
    drop = requests_setup["drop"]
    detail = client.get(url("request_detail", request_id=drop.pk)).content.decode()
    assert "We are moving" in detail and "Approve" in detail
    response = client.post(
        url("request_detail", request_id=drop.pk),
        {"decision": "approve", "reply": "Sorry to see you go"},
    )
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    assert "What was done:" in shown
    assert "Maya Test dropped from Level 2 Girls; the last day attending is Jan 31, 2027." in shown
    with activate_account(account_a):
        drop.refresh_from_db()
        enrollment = Enrollment.objects.get(pk=drop.enrollment_id)
    assert drop.status == "approved" and drop.decided_by_id == alice.pk
    assert (enrollment.status, enrollment.end_date) == ("dropped", date(2027, 1, 31))
    twice = client.post(
        url("request_detail", request_id=drop.pk), {"decision": "deny", "reply": "x"}
    )
    assert twice.status_code == 400 and "already answered" in twice.content.decode()


def test_a_request_that_cannot_be_done_stays_pending(client, account_a, requests_setup):
    office_login(client, account_a, "alice")
    move = requests_setup["move"]
    response = client.post(url("request_detail", request_id=move.pk), {"decision": "approve"})
    assert response.status_code == 400
    assert "Full is full on Feb 4, 2027" in response.content.decode()
    with activate_account(account_a):
        move.refresh_from_db()
        assert move.status == "pending"
        assert Enrollment.objects.get(pk=move.enrollment_id).status == "active"


def test_deny_needs_a_message(client, account_a, requests_setup):
    office_login(client, account_a, "alice")
    move = requests_setup["move"]
    bare = client.post(
        url("request_detail", request_id=move.pk), {"decision": "deny", "reply": " "}
    )
    assert bare.status_code == 400 and "why the request is denied" in bare.content.decode()
    neither = client.post(url("request_detail", request_id=move.pk), {"reply": "hm"})
    assert neither.status_code == 400 and "Choose Approve or Deny" in neither.content.decode()
    denied = client.post(
        url("request_detail", request_id=move.pk),
        {"decision": "deny", "reply": "That class is full."},
    )
    assert denied.status_code == 302
    with activate_account(account_a):
        move.refresh_from_db()
    assert (move.status, move.reply) == ("denied", "That class is full.")


def test_approving_a_trial_whose_meeting_was_removed_is_explained(
    client, account_a, requests_setup
):
    with activate_account(account_a):
        meeting = Meeting.objects.filter(klass=requests_setup["klass"]).order_by("date").last()
        trial = services.request_create(
            kind="trial", student=make_student("Curious"), meeting=meeting
        )
        Meeting.objects.filter(pk=meeting.pk).delete()  # a closure removed it
    office_login(client, account_a, "alice")
    assert "no longer scheduled" in client.get(url("requests")).content.decode()
    response = client.post(url("request_detail", request_id=trial.pk), {"decision": "approve"})
    assert response.status_code == 400
    assert "That meeting is no longer scheduled" in response.content.decode()
    denied = client.post(
        url("request_detail", request_id=trial.pk),
        {"decision": "deny", "reply": "That day is a holiday; pick another."},
    )
    assert denied.status_code == 302


def test_requests_page_query_count_does_not_grow(
    client, account_a, requests_setup, django_assert_max_num_queries
):
    office_login(client, account_a, "alice")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("requests")).status_code == 200
    with activate_account(account_a):
        requests_setup["klass"].capacity = 40
        requests_setup["klass"].save(update_fields=["capacity"])
        for i in range(12):
            student = make_student(f"Req{i}")
            enrollment = services.enroll(
                student=student, klass=requests_setup["klass"], start_date=TERM_START
            )
            services.request_create(
                kind="transfer",
                student=student,
                enrollment=enrollment,
                target_class=requests_setup["full"],
                effective_date=date(2027, 2, 1),
            )
            meeting = Meeting.objects.filter(klass=requests_setup["full"]).first()
            services.request_create(kind="trial", student=student, meeting=meeting)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url("requests")).content.decode()
    assert "Page 1 of 2" in page


# ---------------------------------------------------------------- a student's history


@pytest.fixture
def maya_enrolled(account_a, alice, bob):
    with activate_account(account_a):
        klass = make_class()
        thursday = make_class(name="Thursday Tumble", weekdays=(3,))
        maya = make_student("Maya")
        enrollment = services.enroll(student=maya, klass=klass, start_date=TERM_START)
    return {"klass": klass, "thursday": thursday, "maya": maya, "enrollment": enrollment}


def test_student_history_lists_everything(client, account_a, maya_enrolled):
    maya = maya_enrolled["maya"]
    with activate_account(account_a):
        services.makeup_issue(student=maya, reason="Missed Jan 12", expires_on=TERM_END)
        services.waitlist_join(student=maya, klass=maya_enrolled["thursday"], start_date=TERM_START)
        services.trial_book(
            student=maya, meeting=Meeting.objects.filter(klass=maya_enrolled["thursday"]).first()
        )
    office_login(client, account_a, "alice")
    page = client.get(url("student", student_id=maya.pk)).content.decode()
    for text in ("Level 2 Girls", "Missed Jan 12", "Thursday Tumble", "Trial", "Transfer", "Drop"):
        assert text in page, text
    office_login(client, account_a, "bob")
    assert client.get(url("student", student_id=maya.pk)).status_code == 403


def test_drop_asks_for_confirmation_then_drops(client, account_a, maya_enrolled):
    enrollment = maya_enrolled["enrollment"]
    office_login(client, account_a, "alice")
    path = url("drop", enrollment_id=enrollment.pk)
    assert client.get(path).status_code == 200
    first = client.post(path, {"effective_date": "2027-02-01", "reason": "Moving"})
    body = first.content.decode()
    assert first.status_code == 200 and 'id="drop-confirm"' in body
    assert "The last class attended is Tue, Jan 26" in body
    with activate_account(account_a):
        assert Enrollment.objects.get(pk=enrollment.pk).status == "active"
    done = client.post(path, {"effective_date": "2027-02-01", "reason": "Moving", "confirm": "yes"})
    assert done.status_code == 302
    with activate_account(account_a):
        enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.end_date) == ("dropped", date(2027, 1, 31))
    ended = client.get(path, follow=True)
    assert "already ended" in ended.content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"effective_date": "2026-11-01", "reason": "x"}, "in the past"),
        ({"effective_date": "31/01/2027", "reason": "x"}, "Enter a valid date"),
        ({"effective_date": "2027-02-01", "reason": ""}, "This field is required"),
        ({"effective_date": "2027-05-01", "reason": "x", "confirm": "yes"}, "already ends"),
    ],
)
def test_drop_with_bad_input(client, account_a, maya_enrolled, data, message):
    enrollment = maya_enrolled["enrollment"]
    with activate_account(account_a):
        Enrollment.objects.filter(pk=enrollment.pk).update(end_date=date(2027, 3, 1))
    office_login(client, account_a, "alice")
    response = client.post(url("drop", enrollment_id=enrollment.pk), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(account_a):
        assert Enrollment.objects.get(pk=enrollment.pk).status == "active"


def test_transfer_form(client, account_a, maya_enrolled):
    enrollment, thursday = maya_enrolled["enrollment"], maya_enrolled["thursday"]
    office_login(client, account_a, "alice")
    path = url("transfer", enrollment_id=enrollment.pk)
    form = client.get(path).content.decode()
    assert "Thursday Tumble" in form
    past = client.post(path, {"to_class": thursday.pk, "effective_date": "2026-10-01"})
    assert past.status_code == 400 and "in the past" in past.content.decode()
    same = client.post(
        path, {"to_class": maya_enrolled["klass"].pk, "effective_date": "2027-02-01"}
    )
    assert same.status_code == 400 and "Select a valid choice" in same.content.decode()
    done = client.post(
        path, {"to_class": thursday.pk, "effective_date": "2027-02-01", "reason": "Better day"}
    )
    assert done.status_code == 302
    with activate_account(account_a):
        new = Enrollment.objects.get(klass=thursday)
        enrollment.refresh_from_db()
    assert new.transferred_from_id == enrollment.pk and new.start_date == date(2027, 2, 1)
    assert enrollment.status == "transferred" and enrollment.end_date == date(2027, 1, 31)
    history = client.get(url("student", student_id=maya_enrolled["maya"].pk)).content.decode()
    assert "Transferred from Level 2 Girls" in history


def test_transfer_into_a_full_class_is_refused_with_the_reason(client, account_a, maya_enrolled):
    with activate_account(account_a):
        tiny = make_class(name="Tiny", capacity=1, weekdays=(4,))
        services.enroll(student=make_student("Other"), klass=tiny, start_date=TERM_START)
    office_login(client, account_a, "alice")
    response = client.post(
        url("transfer", enrollment_id=maya_enrolled["enrollment"].pk),
        {"to_class": tiny.pk, "effective_date": "2027-02-01"},
    )
    assert response.status_code == 400 and "Tiny is full on" in response.content.decode()


def test_book_a_trial_by_picking_a_meeting(client, account_a, maya_enrolled):
    maya, thursday = maya_enrolled["maya"], maya_enrolled["thursday"]
    office_login(client, account_a, "alice")
    page = client.get(url("trial", f"klass={thursday.pk}", student_id=maya.pk)).content.decode()
    assert "Thu Jan 7, 2027 — 10 seats left" in page
    with activate_account(account_a):
        meeting = Meeting.objects.get(klass=thursday, date=date(2027, 1, 7))
    response = client.post(
        url("trial", student_id=maya.pk), {"klass": thursday.pk, "meeting": meeting.pk}
    )
    assert response.status_code == 302
    with activate_account(account_a):
        assert Visit.objects.get(student=maya).kind == "trial"
    twice = client.post(
        url("trial", student_id=maya.pk), {"klass": thursday.pk, "meeting": meeting.pk}
    )
    assert twice.status_code == 400 and "already booked" in twice.content.decode()
    unknown = client.post(url("trial", student_id=maya.pk), {"klass": thursday.pk, "meeting": 0})
    assert unknown.status_code == 400 and "Select a valid choice" in unknown.content.decode()


def test_issue_a_makeup_and_book_it_into_a_meeting_with_space(client, account_a, maya_enrolled):
    maya, thursday = maya_enrolled["maya"], maya_enrolled["thursday"]
    office_login(client, account_a, "alice")
    bad = client.post(
        url("makeup_issue", student_id=maya.pk), {"reason": "", "expires_on": "2026-01-01"}
    )
    assert bad.status_code == 400 and "in the past" in bad.content.decode()
    issued = client.post(
        url("makeup_issue", student_id=maya.pk),
        {"reason": "Missed Jan 12 (sick)", "expires_on": "2027-01-20"},
    )
    assert issued.status_code == 302
    with activate_account(account_a):
        token = MakeupToken.objects.get(student=maya)
        full_day = Meeting.objects.get(klass=thursday, date=date(2027, 1, 14))
        thursday.capacity = 1
        thursday.save(update_fields=["capacity"])
        services.trial_book(student=make_student("Taken"), meeting=full_day)
    page = client.get(url("makeup_book", f"klass={thursday.pk}", makeup_id=token.pk))
    body = page.content.decode()
    assert "Thu Jan 7, 2027" in body and "Thu Jan 14" not in body  # full
    assert "Thu Jan 21" not in body  # after the expiry
    with activate_account(account_a):
        meeting = Meeting.objects.get(klass=thursday, date=date(2027, 1, 7))
    booked = client.post(
        url("makeup_book", makeup_id=token.pk), {"klass": thursday.pk, "meeting": meeting.pk}
    )
    assert booked.status_code == 302
    with activate_account(account_a):
        token.refresh_from_db()
        assert token.status == "redeemed" and token.visit.meeting == meeting
    used = client.get(url("makeup_book", makeup_id=token.pk), follow=True)
    assert "already been used" in used.content.decode()
    cancel = client.post(url("visit_cancel", visit_id=token.visit_id), follow=True)
    assert "can be used again" in cancel.content.decode()


# ---------------------------------------------------------------- settings


def test_enrollment_timers(client, account_a, alice):
    office_login(client, account_a, "alice")
    page = client.get(url("settings")).content.decode()
    assert 'value="10"' in page and 'value="24"' in page
    bad = client.post(url("settings"), {"hold_minutes": "0", "offer_hours": "999"})
    assert bad.status_code == 400
    saved = client.post(url("settings"), {"hold_minutes": "15", "offer_hours": "48"})
    assert saved.status_code == 302
    with activate_account(account_a):
        current = EnrollmentSettings.objects.get()
    assert (current.hold_minutes, current.offer_hours) == (15, 48)
    make_staff(account_a, "desk", groups=("Front Desk",))
    office_login(client, account_a, "desk")
    assert client.get(url("settings")).status_code == 403


# ---------------------------------------------------------------- includes for other pages


def _render(template, account, user, **context):
    request = RequestFactory().get("/")
    request.account = account
    request.user = user
    with activate_account(account):
        return render_to_string(
            template,
            {**context, "office_perms": effective_permissions(user), "request": request},
        )


def test_family_include_lists_current_enrollments_without_n_plus_1(
    account_a, alice, django_assert_max_num_queries
):
    with activate_account(account_a):
        family = make_family("Garcia")
        maya = make_student("Maya", family=family)
        klass = make_class()
        services.enroll(student=maya, klass=klass, start_date=TERM_START)
    with CaptureQueriesContext(connection) as one:
        html = _render("enrollment/_family_enrollments.html", account_a, alice, family=family)
    assert "Level 2 Girls" in html and "Maya Test" in html
    with activate_account(account_a):
        camp = make_camp()
        option = CampOption.objects.get(camp=camp)
        for i in range(4):
            kid = make_student(f"Kid{i}", family=family)
            services.enroll(student=kid, klass=make_class(name=f"Class {i}"), start_date=TERM_START)
            services.camp_book(student=kid, camp=camp, option=option, days=camp_days(camp)[:2])
            services.waitlist_join(student=kid, klass=klass, start_date=TERM_START)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = _render("enrollment/_family_enrollments.html", account_a, alice, family=family)
    assert "Class 3" in html and "Summer Ninja Week" in html and "Jun 14, Jun 15" in html


def test_class_summary_include(account_a, alice, bob):
    with activate_account(account_a):
        klass = make_class(capacity=3)
        services.enroll(student=make_student("A"), klass=klass, start_date=TERM_START)
        services.trial_book(
            student=make_student("T"), meeting=Meeting.objects.get(klass=klass, date=FIRST)
        )
        services.waitlist_join(student=make_student("W"), klass=klass, start_date=TERM_START)
    html = _render("enrollment/_class_enrollment_summary.html", account_a, alice, klass=klass)
    assert 'data-seats-taken="2"' in html and 'data-seats-left="1"' in html
    assert "1 enrolled" in html and "1 waiting" in html and "Enroll a student" in html
    as_bob = _render("enrollment/_class_enrollment_summary.html", account_a, bob, klass=klass)
    assert "Enroll a student" not in as_bob and "Roster" in as_bob


def test_request_lists_respect_location_limits(client, account_a, requests_setup):
    from classbook.accounts.services import location_save

    with activate_account(account_a):
        north = location_save(name="North", city="Austin", phone="(512) 555-0101")
    make_staff(account_a, "northonly", groups=("Front Desk",), location_ids=[north.pk])
    office_login(client, account_a, "northonly")
    page = client.get(url("requests")).content.decode()
    assert "No requests yet" in page
    assert (
        client.get(url("request_detail", request_id=requests_setup["drop"].pk)).status_code == 404
    )
    assert (
        client.get(url("drop", enrollment_id=requests_setup["drop"].enrollment_id)).status_code
        == 404
    )
