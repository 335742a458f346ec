"""One valid call per audited enrollment service (see tests/audit)."""

from datetime import date, timedelta

from classbook.catalog.models import CampOption, Meeting
from classbook.core import clock
from classbook.enrollment import services as svc
from classbook.enrollment.models import Hold
from classbook.enrollment.services import HoldRequest
from tests.enrollment.helpers import TERM_END, TERM_START, camp_days, make_camp, make_class
from tests.enrollment.helpers import make_student as student


def _enrolled():
    return svc.enroll(student=student(), klass=make_class(), start_date=TERM_START)


def _full_class_with_waiting():
    klass = make_class(capacity=1, name="Full")
    seated = svc.enroll(student=student("Seated"), klass=klass, start_date=TERM_START)
    entry = svc.waitlist_join(student=student("Next"), klass=klass, start_date=TERM_START)
    svc.drop(enrollment=seated, effective_date=TERM_START, reason="Left")
    return klass, entry


def _offered():
    klass, entry = _full_class_with_waiting()
    svc.waitlist_offer_seats(klass=klass)
    entry.refresh_from_db()
    return entry


def _held():
    svc.hold_seats(
        cart="audit-cart", requests=[HoldRequest(klass=make_class(), start_date=TERM_START)]
    )
    return Hold.objects.get(cart="audit-cart")


def _touch_later(hold):
    # Within a minute of the last touch nothing changes and nothing is logged.
    with clock.freeze(clock.now() + timedelta(minutes=2)):
        return svc.holds_touch(cart=hold.cart)


def _meeting():
    return Meeting.objects.filter(klass=make_class(name="Visits")).order_by("date").first()


def _camp():
    camp = make_camp()
    return camp, CampOption.objects.get(camp=camp), camp_days(camp)


def _booked():
    camp, option, days = _camp()
    return svc.camp_book(student=student(), camp=camp, option=option, days=days[:1])[0]


def _request():
    enrollment = _enrolled()
    return svc.request_create(
        kind="drop",
        student=enrollment.student,
        enrollment=enrollment,
        effective_date=date(2027, 2, 1),
    )


def _expired_offer():
    entry = _offered()

    def call():
        with clock.freeze(entry.offer_expires_at + timedelta(seconds=1)):
            return svc.offers_expire()

    return call


def setup(make, call):
    def scenario(ctx):
        made = make()
        return lambda: call(made)

    return scenario


SCENARIOS = {
    "classbook.enrollment.services.enroll": setup(
        lambda: (student(), make_class()),
        lambda m: svc.enroll(student=m[0], klass=m[1], start_date=TERM_START),
    ),
    "classbook.enrollment.services.drop": setup(
        _enrolled,
        lambda e: svc.drop(enrollment=e, effective_date=date(2027, 2, 1), reason="Moving"),
    ),
    "classbook.enrollment.services.transfer": setup(
        lambda: (_enrolled(), make_class(name="Thu", weekdays=(3,))),
        lambda m: svc.transfer(
            enrollment=m[0], to_class=m[1], effective_date=date(2027, 2, 1), reason="Better day"
        ),
    ),
    "classbook.enrollment.services.camp_book": setup(
        _camp, lambda m: svc.camp_book(student=student(), camp=m[0], option=m[1], days=m[2][:2])
    ),
    "classbook.enrollment.services.camp_cancel": setup(
        _booked, lambda b: svc.camp_cancel(booking=b, reason="Sick")
    ),
    "classbook.enrollment.services.hold_seats": setup(
        make_class,
        lambda k: svc.hold_seats(cart="c1", requests=[HoldRequest(klass=k, start_date=TERM_START)]),
    ),
    "classbook.enrollment.services.holds_touch": setup(_held, _touch_later),
    "classbook.enrollment.services.hold_release": setup(_held, lambda h: svc.hold_release(hold=h)),
    "classbook.enrollment.services.holds_convert": setup(
        _held, lambda h: svc.holds_convert(cart=h.cart, students={h.pk: student()})
    ),
    "classbook.enrollment.services.waitlist_join": setup(
        make_class, lambda k: svc.waitlist_join(student=student(), klass=k, start_date=TERM_START)
    ),
    "classbook.enrollment.services.camp_waitlist_join": setup(
        _camp, lambda m: svc.camp_waitlist_join(student=student(), camp_option=m[1], days=m[2][:2])
    ),
    "classbook.enrollment.services.waitlist_leave": setup(
        lambda: _full_class_with_waiting()[1], lambda e: svc.waitlist_leave(entry=e)
    ),
    "classbook.enrollment.services.waitlist_offer_seats": setup(
        lambda: _full_class_with_waiting()[0], lambda k: svc.waitlist_offer_seats(klass=k)
    ),
    "classbook.enrollment.services.offer_claim": setup(
        _offered, lambda e: svc.offer_claim(entry=e)
    ),
    "classbook.enrollment.services.offer_decline": setup(
        _offered, lambda e: svc.offer_decline(entry=e)
    ),
    "classbook.enrollment.services.offers_expire": lambda ctx: _expired_offer(),
    "classbook.enrollment.services.trial_book": setup(
        _meeting, lambda m: svc.trial_book(student=student(), meeting=m)
    ),
    "classbook.enrollment.services.makeup_issue": setup(
        student, lambda s: svc.makeup_issue(student=s, reason="Missed a class", expires_on=TERM_END)
    ),
    "classbook.enrollment.services.makeup_redeem": setup(
        lambda: (svc.makeup_issue(student=student(), reason="x", expires_on=TERM_END), _meeting()),
        lambda m: svc.makeup_redeem(token=m[0], meeting=m[1]),
    ),
    "classbook.enrollment.services.visit_cancel": setup(
        lambda: svc.trial_book(student=student(), meeting=_meeting()),
        lambda v: svc.visit_cancel(visit=v),
    ),
    "classbook.enrollment.services.request_create": setup(
        _enrolled,
        lambda e: svc.request_create(
            kind="drop", student=e.student, enrollment=e, effective_date=date(2027, 2, 1)
        ),
    ),
    "classbook.enrollment.services.request_decide": setup(
        _request,
        lambda r: svc.request_decide(request=r, approve=False, reply="Please call us first"),
    ),
    "classbook.enrollment.services.settings_update": lambda ctx: (
        lambda: svc.settings_update(hold_minutes=15, offer_hours=48)
    ),
}
