"""PostgreSQL, real threads: 40 parents click at once on a class (or camp day) of 10.

Exactly 10 succeed; the 30 others get a clear "full" answer that offers the waitlist;
nobody gets an error or a second seat.
"""

import threading
from datetime import date

import pytest
from django.db import connections

from classbook.catalog.models import CampOption
from classbook.core.tenancy import activate_account
from classbook.enrollment import services
from classbook.enrollment.capacity import class_taken, meeting_dates
from classbook.enrollment.models import CampBooking, Enrollment, Hold
from classbook.enrollment.services import EnrollmentRefused, HoldRequest
from tests.conftest import is_postgres
from tests.enrollment.helpers import TERM_START, camp_days, make_camp, make_class, make_student

pytestmark = pytest.mark.django_db(transaction=True)
RUSH = 40
SEATS = 10


def rush(account, attempt) -> tuple[int, int, list[Exception]]:
    """Run ``attempt(i)`` in RUSH threads released together; count outcomes."""
    succeeded, full, errors = [], [], []
    gate = threading.Barrier(RUSH)

    def run(i):
        try:
            with activate_account(account):
                gate.wait()
                attempt(i)
            succeeded.append(i)
        except EnrollmentRefused as refused:
            (full if refused.full else errors).append(refused)
        except Exception as exc:  # asserted empty below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUSH)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return len(succeeded), len(full), errors


@pytest.fixture
def postgres_only():
    if not is_postgres():
        pytest.skip("real concurrent transactions need PostgreSQL")


def test_forty_parents_one_class_of_ten(postgres_only, account_a):
    with activate_account(account_a):
        klass = make_class(capacity=SEATS)
        students = [make_student(f"Kid{i}") for i in range(RUSH)]
    ok, full, errors = rush(
        account_a,
        lambda i: services.enroll(
            student=students[i], klass=klass, start_date=TERM_START, check_window=True
        ),
    )
    assert (ok, full, errors) == (SEATS, RUSH - SEATS, [])
    with activate_account(account_a):
        assert Enrollment.objects.filter(klass=klass).count() == SEATS
        taken = class_taken(klass, meeting_dates(klass, TERM_START, None), now=klass.created_at)
        assert max(taken.values()) == SEATS


def test_forty_carts_holding_seats_in_one_class(postgres_only, account_a):
    with activate_account(account_a):
        klass = make_class(capacity=SEATS)
    ok, full, errors = rush(
        account_a,
        lambda i: services.hold_seats(
            cart=f"cart-{i}", requests=[HoldRequest(klass=klass, start_date=TERM_START)]
        ),
    )
    assert (ok, full, errors) == (SEATS, RUSH - SEATS, [])
    with activate_account(account_a):
        assert Hold.objects.filter(klass=klass).count() == SEATS


def test_forty_campers_one_camp_day_of_ten(postgres_only, account_a):
    with activate_account(account_a):
        camp = make_camp(day_capacity=SEATS)
        option = CampOption.objects.get(camp=camp)
        day = camp_days(camp)[0]
        students = [make_student(f"Camper{i}", born=date(2017, 3, 3)) for i in range(RUSH)]
    ok, full, errors = rush(
        account_a,
        lambda i: services.camp_book(student=students[i], camp=camp, option=option, days=[day]),
    )
    assert (ok, full, errors) == (SEATS, RUSH - SEATS, [])
    with activate_account(account_a):
        assert CampBooking.objects.filter(camp_day=day, status="active").count() == SEATS
