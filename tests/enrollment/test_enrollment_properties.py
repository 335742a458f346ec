"""A hypothesis state machine over the whole engine: after every step no meeting is
over capacity (counting enrollments, visits, unexpired holds and open offers) and no
student holds two overlapping enrollments in one class."""

import contextlib
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from classbook.catalog.models import Meeting
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.enrollment import capacity, services
from classbook.enrollment.models import Enrollment, Hold, MakeupToken, Visit, WaitlistEntry
from classbook.enrollment.services import HoldRequest
from tests.enrollment.helpers import TERM_END, TERM_START, make_class, make_student

START = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
pick = st.integers(min_value=0, max_value=1000)
refused = contextlib.suppress(ValidationFailed)


class EnrollmentMachine(RuleBasedStateMachine):
    @initialize(cap_a=st.integers(1, 3), cap_b=st.integers(1, 3))
    def set_up(self, cap_a, cap_b):
        self.now = START
        run = Enrollment.objects.count() + Hold.objects.count()
        with clock.freeze(self.now):
            self.classes = [
                make_class(name=f"A{run}", capacity=cap_a, weekdays=(1,)),
                make_class(name=f"B{run}", capacity=cap_b, weekdays=(3,)),
            ]
            self.students = [make_student(f"S{run}-{i}") for i in range(6)]
        self.meetings = {
            k.pk: list(Meeting.objects.filter(klass=k).order_by("date")) for k in self.classes
        }
        self.carts = 0

    def _class(self, i):
        return self.classes[i % len(self.classes)]

    def _student(self, i):
        return self.students[i % len(self.students)]

    def _start(self, klass, i):
        meetings = self.meetings[klass.pk]
        return meetings[i % len(meetings)].date

    def _frozen(self):
        return clock.freeze(self.now)

    @rule(s=pick, c=pick, d=pick)
    def enroll(self, s, c, d):
        klass = self._class(c)
        with self._frozen(), refused:
            services.enroll(student=self._student(s), klass=klass, start_date=self._start(klass, d))

    @rule(e=pick, d=pick)
    def drop(self, e, d):
        active = list(Enrollment.objects.filter(klass__in=self.classes, status="active"))
        if active:
            enrollment = active[e % len(active)]
            with self._frozen(), refused:
                services.drop(
                    enrollment=enrollment,
                    reason="x",
                    effective_date=self._start(enrollment.klass, d),
                )

    @rule(e=pick, c=pick, d=pick)
    def transfer(self, e, c, d):
        active = list(Enrollment.objects.filter(klass__in=self.classes, status="active"))
        if active:
            enrollment = active[e % len(active)]
            target = self._class(c)
            with self._frozen(), refused:
                services.transfer(
                    enrollment=enrollment,
                    to_class=target,
                    reason="x",
                    effective_date=self._start(target, d),
                )

    @rule(c=pick, d=pick)
    def hold(self, c, d):
        klass = self._class(c)
        self.carts += 1
        with self._frozen(), refused:
            services.hold_seats(
                cart=f"cart{self.carts}",
                requests=[HoldRequest(klass=klass, start_date=self._start(klass, d))],
            )

    @rule(minutes=st.integers(1, 30 * 60))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)
        with self._frozen():
            services.offers_expire()

    @rule(h=pick, s=pick)
    def convert(self, h, s):
        holds = list(Hold.objects.filter(klass__in=self.classes))
        if holds:
            hold = holds[h % len(holds)]
            with self._frozen(), refused:
                services.holds_convert(cart=hold.cart, students={hold.pk: self._student(s)})

    @rule(s=pick, c=pick, d=pick)
    def join_waitlist(self, s, c, d):
        klass = self._class(c)
        with self._frozen(), refused:
            services.waitlist_join(
                student=self._student(s), klass=klass, start_date=self._start(klass, d)
            )

    @rule(c=pick)
    def offer(self, c):
        with self._frozen(), refused:
            services.waitlist_offer_seats(klass=self._class(c))

    @rule(w=pick, claim=st.booleans())
    def answer_offer(self, w, claim):
        offers = list(WaitlistEntry.objects.filter(klass__in=self.classes, status="offered"))
        if offers:
            entry = offers[w % len(offers)]
            with self._frozen(), refused:
                if claim:
                    services.offer_claim(entry=entry)
                else:
                    services.offer_decline(entry=entry)

    @rule(s=pick, c=pick, m=pick)
    def trial(self, s, c, m):
        meetings = self.meetings[self._class(c).pk]
        with self._frozen(), refused:
            services.trial_book(student=self._student(s), meeting=meetings[m % len(meetings)])

    @rule(s=pick, c=pick, m=pick)
    def makeup(self, s, c, m):
        meetings = self.meetings[self._class(c).pk]
        with self._frozen(), refused:
            token = services.makeup_issue(
                student=self._student(s), reason="absence", expires_on=TERM_END
            )
            services.makeup_redeem(token=token, meeting=meetings[m % len(meetings)])

    @invariant()
    def no_meeting_over_capacity(self):
        if not hasattr(self, "classes"):
            return
        for klass in self.classes:
            dates = capacity.meeting_dates(klass, TERM_START, None)
            taken = capacity.class_taken(klass, dates, now=self.now)
            assert max(taken.values()) <= klass.capacity, (klass.capacity, taken)

    @invariant()
    def nobody_enrolled_twice(self):
        if not hasattr(self, "classes"):
            return
        for klass in self.classes:
            spans: dict[int, list] = {}
            for e in Enrollment.objects.filter(klass=klass, status__in=capacity.SEATED):
                for start, end in spans.get(e.student_id, []):
                    assert (e.end_date is not None and e.end_date < start) or (
                        end is not None and end < e.start_date
                    ), "overlapping enrollments"
                spans.setdefault(e.student_id, []).append((e.start_date, e.end_date))

    @invariant()
    def visits_and_tokens_agree(self):
        redeemed = MakeupToken.objects.filter(status="redeemed").count()
        assert redeemed == Visit.objects.filter(kind="makeup", status="booked").count()


def test_enrollment_invariants_hold_for_any_sequence(in_a):
    EnrollmentMachine.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    EnrollmentMachine.TestCase().runTest()
