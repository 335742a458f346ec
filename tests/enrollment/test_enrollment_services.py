"""The enrollment engine's services, case by case."""

from datetime import UTC, date, datetime, timedelta

import pytest

from classbook.catalog.models import CampOption, Meeting
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.enrollment import capacity, services
from classbook.enrollment.models import Enrollment, Hold, MakeupToken, WaitlistEntry
from classbook.enrollment.services import EnrollmentRefused, HoldRequest
from tests.enrollment.helpers import (
    TERM_END,
    TERM_START,
    camp_days,
    make_camp,
    make_class,
    make_student,
)

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_now():
    with clock.freeze(NOW):
        yield


def fill(klass, count, *, start=TERM_START):
    return [
        services.enroll(student=make_student(f"Kid{i}"), klass=klass, start_date=start)
        for i in range(count)
    ]


def test_enroll_until_full_then_refused_with_the_waitlist(in_a):
    klass = make_class(capacity=2)
    fill(klass, 2)
    with pytest.raises(EnrollmentRefused) as refused:
        services.enroll(student=make_student("Late"), klass=klass, start_date=TERM_START)
    assert refused.value.full
    assert "is full on Jan 5, 2027" in refused.value.reasons[0]
    assert "waitlist" in refused.value.reasons[0]


def test_capacity_is_per_meeting_date(in_a):
    """One student leaves at the end of January; another may start in February."""
    klass = make_class(capacity=1)
    leaving = services.enroll(student=make_student("Ava"), klass=klass, start_date=TERM_START)
    services.drop(enrollment=leaving, effective_date=date(2027, 2, 1), reason="Moving")
    with pytest.raises(EnrollmentRefused):
        services.enroll(student=make_student("Bea"), klass=klass, start_date=date(2027, 1, 20))
    joined = services.enroll(student=make_student("Cy"), klass=klass, start_date=date(2027, 2, 1))
    assert joined.start_date == date(2027, 2, 1)


def test_a_student_cannot_be_enrolled_twice(in_a):
    klass = make_class()
    student = make_student()
    services.enroll(student=student, klass=klass, start_date=TERM_START)
    with pytest.raises(EnrollmentRefused, match="already enrolled"):
        services.enroll(student=student, klass=klass, start_date=date(2027, 2, 1))


@pytest.mark.parametrize(
    "student_kwargs, class_kwargs, reason",
    [
        ({"born": date(2022, 6, 1)}, {"min_age_months": 72}, "Too young"),
        ({"born": date(2012, 6, 1)}, {"max_age_months": 9 * 12 + 11}, "Too old"),
        ({"gender": "male"}, {"gender_rule": "girls"}, "for girls only"),
        ({"gender": "unspecified"}, {"gender_rule": "boys"}, "gender is not recorded"),
    ],
)
def test_eligibility_refusals_name_the_rule(in_a, student_kwargs, class_kwargs, reason):
    klass = make_class(**class_kwargs)
    with pytest.raises(EnrollmentRefused, match=reason):
        services.enroll(student=make_student(**student_kwargs), klass=klass, start_date=TERM_START)


def test_age_is_taken_at_the_first_meeting_of_the_enrollment(in_a):
    klass = make_class(min_age_months=72)  # 6 years
    turns_six = make_student(born=date(2021, 2, 1))
    with pytest.raises(EnrollmentRefused, match="Too young"):
        services.enroll(student=turns_six, klass=klass, start_date=TERM_START)
    services.enroll(student=turns_six, klass=klass, start_date=date(2027, 2, 1))


def test_registration_window_applies_to_the_portal_only(in_a):
    klass = make_class(registration_opens_at=NOW + timedelta(days=3))
    with pytest.raises(EnrollmentRefused, match="Registration opens"):
        services.enroll(
            student=make_student(), klass=klass, start_date=TERM_START, check_window=True
        )
    services.enroll(student=make_student("Office"), klass=klass, start_date=TERM_START)


def test_staff_override_enrolls_past_capacity_and_rules_with_a_reason(in_a):
    klass = make_class(capacity=1, min_age_months=120)
    services.enroll(
        student=make_student("Older", born=date(2015, 1, 1)), klass=klass, start_date=TERM_START
    )
    enrollment = services.enroll(
        student=make_student(),
        klass=klass,
        start_date=TERM_START,
        override_reason="Sibling of a team member, coach agreed",
    )
    assert enrollment.override_reason.startswith("Sibling")


def test_drop_ends_the_day_before_and_a_drop_before_start_cancels(in_a):
    klass = make_class()
    enrollment = services.enroll(student=make_student(), klass=klass, start_date=TERM_START)
    services.drop(enrollment=enrollment, effective_date=date(2027, 2, 2), reason="Schedule")
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.end_date) == ("dropped", date(2027, 2, 1))
    other = services.enroll(student=make_student("B"), klass=klass, start_date=TERM_START)
    services.drop(enrollment=other, effective_date=TERM_START, reason="Changed mind")
    other.refresh_from_db()
    assert other.status == "cancelled"
    with pytest.raises(ValidationFailed, match="already ended"):
        services.drop(enrollment=other, effective_date=TERM_START, reason="again")


def test_transfer_links_the_history(in_a):
    tuesday = make_class(name="Tue", weekdays=(1,))
    thursday = make_class(name="Thu", weekdays=(3,))
    old = services.enroll(student=make_student(), klass=tuesday, start_date=TERM_START)
    new = services.transfer(
        enrollment=old,
        to_class=thursday,
        effective_date=date(2027, 2, 1),
        reason="Thursday suits better",
    )
    old.refresh_from_db()
    assert old.status == "transferred" and old.end_date == date(2027, 1, 31)
    assert new.transferred_from == old and new.start_date == date(2027, 2, 1)


def test_transfer_into_a_full_class_is_refused_and_changes_nothing(in_a):
    tuesday = make_class(name="Tue", weekdays=(1,))
    full = make_class(name="Thu", weekdays=(3,), capacity=1)
    fill(full, 1)
    old = services.enroll(student=make_student(), klass=tuesday, start_date=TERM_START)
    with pytest.raises(EnrollmentRefused):
        services.transfer(
            enrollment=old, to_class=full, effective_date=date(2027, 2, 1), reason="x"
        )
    old.refresh_from_db()
    assert old.status == "active" and old.end_date is None


def test_a_hold_counts_until_its_expiry_instant_without_any_job(in_a):
    klass = make_class(capacity=1)
    services.hold_seats(cart="cart-1", requests=[HoldRequest(klass=klass, start_date=TERM_START)])
    with pytest.raises(EnrollmentRefused):
        services.enroll(student=make_student(), klass=klass, start_date=TERM_START)
    with clock.freeze(NOW + timedelta(minutes=10, seconds=1)):
        services.enroll(student=make_student("After"), klass=klass, start_date=TERM_START)


def test_touching_the_cart_extends_every_hold(in_a):
    a, b = make_class(name="A"), make_class(name="B", weekdays=(3,))
    services.hold_seats(
        cart="c",
        requests=[
            HoldRequest(klass=a, start_date=TERM_START),
            HoldRequest(klass=b, start_date=TERM_START),
        ],
    )
    with clock.freeze(NOW + timedelta(minutes=8)):
        expires = services.holds_touch(cart="c")
    assert expires == NOW + timedelta(minutes=18)
    assert set(Hold.objects.values_list("expires_at", flat=True)) == {expires}


def test_touching_again_within_a_minute_writes_nothing(in_a):
    from classbook.audit.models import LogEntry

    klass = make_class()
    services.hold_seats(cart="c", requests=[HoldRequest(klass=klass, start_date=TERM_START)])
    created = Hold.objects.get().expires_at
    logged = LogEntry.objects.count()
    with clock.freeze(NOW + timedelta(seconds=50)):
        assert services.holds_touch(cart="c") == created  # the timer is left as it is
    assert Hold.objects.get().expires_at == created and LogEntry.objects.count() == logged
    with clock.freeze(NOW + timedelta(minutes=1, seconds=1)):
        assert services.holds_touch(cart="c") == NOW + timedelta(minutes=11, seconds=1)
    assert LogEntry.objects.count() == logged + 1
    assert services.holds_touch(cart="no such cart") is None


def test_convert_holds_into_enrollments(in_a):
    klass = make_class(capacity=1)
    student = make_student()
    services.hold_seats(
        cart="c", requests=[HoldRequest(klass=klass, start_date=TERM_START, child_label="Maya")]
    )
    hold = Hold.objects.get()
    [enrollment] = services.holds_convert(cart="c", students={hold.pk: student})
    assert enrollment.klass == klass and not Hold.objects.exists()


def test_an_expired_hold_converts_only_if_the_seat_is_still_free(in_a):
    klass = make_class(capacity=1)
    services.hold_seats(cart="c", requests=[HoldRequest(klass=klass, start_date=TERM_START)])
    hold = Hold.objects.get()
    with clock.freeze(NOW + timedelta(minutes=11)):
        fill(klass, 1)
        with pytest.raises(EnrollmentRefused, match="full"):
            services.holds_convert(cart="c", students={hold.pk: make_student("Slow")})
    assert Enrollment.objects.count() == 1


def test_waitlist_offer_claim_and_decline(in_a):
    klass = make_class(capacity=1)
    [seated] = fill(klass, 1)
    first = services.waitlist_join(
        student=make_student("First"), klass=klass, start_date=TERM_START
    )
    second = services.waitlist_join(
        student=make_student("Second"), klass=klass, start_date=TERM_START
    )
    services.drop(enrollment=seated, effective_date=TERM_START, reason="Left")
    offers = services.waitlist_offer_seats(klass=klass)
    assert [o.pk for o in offers] == [first.pk]
    first.refresh_from_db()
    assert first.offer_expires_at == NOW + timedelta(hours=24)
    # The open offer reserves the seat.
    with pytest.raises(EnrollmentRefused):
        services.enroll(student=make_student("Walk-in"), klass=klass, start_date=TERM_START)
    services.offer_decline(entry=first)
    assert [o.pk for o in services.waitlist_offer_seats(klass=klass)] == [second.pk]
    second.refresh_from_db()
    enrollment = services.offer_claim(entry=second)
    assert enrollment.source == "waitlist"


def test_an_offer_expires_at_its_deadline_and_passes_on(in_a):
    klass = make_class(capacity=1)
    [seated] = fill(klass, 1)
    first = services.waitlist_join(
        student=make_student("First"), klass=klass, start_date=TERM_START
    )
    second = services.waitlist_join(
        student=make_student("Second"), klass=klass, start_date=TERM_START
    )
    services.drop(enrollment=seated, effective_date=TERM_START, reason="Left")
    services.waitlist_offer_seats(klass=klass)
    later = NOW + timedelta(hours=24, seconds=1)
    with clock.freeze(later):
        first.refresh_from_db()
        with pytest.raises(EnrollmentRefused, match="no longer open"):
            services.offer_claim(entry=first)
        assert services.offers_expire() == 1
        assert [o.pk for o in services.waitlist_offer_seats(klass=klass)] == [second.pk]


def test_camp_days_have_their_own_capacity(in_a):
    camp = make_camp(day_capacity=1)
    option = CampOption.objects.get(camp=camp)
    monday, tuesday = camp_days(camp)[:2]
    services.camp_book(student=make_student("A"), camp=camp, option=option, days=[monday])
    with pytest.raises(EnrollmentRefused, match="full on Jun 14"):
        services.camp_book(
            student=make_student("B"), camp=camp, option=option, days=[monday, tuesday]
        )
    services.camp_book(student=make_student("C"), camp=camp, option=option, days=[tuesday])


def test_trial_counts_against_that_meeting_only(in_a):
    klass = make_class(capacity=1)
    first_meeting = Meeting.objects.filter(klass=klass).order_by("date").first()
    services.trial_book(student=make_student("Trial"), meeting=first_meeting)
    with pytest.raises(EnrollmentRefused):
        services.enroll(student=make_student("A"), klass=klass, start_date=TERM_START)
    services.enroll(
        student=make_student("B"), klass=klass, start_date=first_meeting.date + timedelta(days=1)
    )


def test_makeup_token_is_spent_once_and_returned_on_cancel(in_a):
    klass = make_class(capacity=2)
    student = make_student()
    token = services.makeup_issue(
        student=student, reason="Missed Jan 5 (sick)", expires_on=TERM_END
    )
    meeting = Meeting.objects.filter(klass=klass).order_by("date")[2]
    visit = services.makeup_redeem(token=token, meeting=meeting)
    with pytest.raises(EnrollmentRefused, match="already been used"):
        services.makeup_redeem(token=token, meeting=meeting)
    services.visit_cancel(visit=visit)
    token.refresh_from_db()
    assert token.status == MakeupToken.Status.AVAILABLE


def test_capacity_cannot_drop_below_seats_taken(in_a):
    from classbook.catalog.services import class_save

    klass = make_class(capacity=3)
    fill(klass, 3)
    with pytest.raises(ValidationFailed, match="cannot go below 3"):
        class_save(klass=klass, capacity=2)


def test_request_approval_carries_it_out(in_a):
    klass = make_class()
    enrollment = services.enroll(student=make_student(), klass=klass, start_date=TERM_START)
    request = services.request_create(
        kind="drop",
        student=enrollment.student,
        enrollment=enrollment,
        effective_date=date(2027, 2, 1),
        message="We are moving",
    )
    with pytest.raises(ValidationFailed, match="why"):
        services.request_decide(request=request, approve=False)
    services.request_decide(request=request, approve=True, reply="Sorry to see you go")
    enrollment.refresh_from_db()
    assert enrollment.status == "dropped"


def test_seats_left_for_display(in_a):
    klass = make_class(capacity=5)
    fill(klass, 2)
    services.hold_seats(cart="c", requests=[HoldRequest(klass=klass, start_date=TERM_START)])
    assert capacity.seats_left(klass, start=TERM_START, now=NOW) == 2
    assert WaitlistEntry.objects.count() == 0
