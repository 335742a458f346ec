"""One valid call per audited portal service (see tests/audit)."""

from datetime import date

from classbook.enrollment import services as enrollment
from classbook.enrollment.models import Hold
from classbook.enrollment.services import HoldRequest
from classbook.families.models import Guardian, Student
from classbook.portal import services as svc
from classbook.portal.models import Checkout
from tests.portal.helpers import make_class, make_family


def _held():
    family = make_family("Audit", login=False)
    klass = make_class()
    enrollment.hold_seats(
        cart="audit-cart", requests=[HoldRequest(klass=klass, start_date=date(2027, 1, 5))]
    )
    return family, Hold.objects.get(cart="audit-cart"), Student.objects.get(family=family)


def _assign(ctx):
    family, hold, student = _held()
    return lambda: svc.hold_assign_student(
        cart="audit-cart", hold=hold, family=family, student=student
    )


def _begin(ctx):
    family = make_family("Begin", login=False)
    return lambda: svc.checkout_begin(cart="c-begin", family=family, amount_cents=8000, lines=[])


def _paying(name="Paying"):
    family = make_family(name, login=False)
    return svc.checkout_begin(cart=f"c-{name}", family=family, amount_cents=8000, lines=[])


def _reopen(ctx):
    checkout = _paying("Reopen")
    return lambda: svc.checkout_reopen(checkout=checkout, reason="Declined")


def _record(ctx):
    checkout = _paying("Record")
    return lambda: svc.checkout_record(
        cart=checkout.cart, family=checkout.family, status="pay_later", items=["Ana in Level 1"]
    )


def _review(ctx):
    checkout = _paying("Review")
    svc.checkout_record(
        cart=checkout.cart,
        family=checkout.family,
        status="seats_lost",
        items=[],
        message="Seat lost",
        needs_review=True,
    )
    return lambda: svc.checkout_review(checkout=Checkout.objects.get(pk=checkout.pk))


def _login(ctx):
    family = make_family("Login", login=False)
    guardian = Guardian.objects.get(family=family)
    return lambda: svc.guardian_login_create(guardian=guardian, password="Backflip-Summer-2026")


SCENARIOS = {
    "classbook.portal.services.portal_settings_update": lambda ctx: (
        lambda: svc.portal_settings_update(mode="setup", allow_pay_later=True)
    ),
    "classbook.portal.services.hold_assign_student": _assign,
    "classbook.portal.services.checkout_begin": _begin,
    "classbook.portal.services.checkout_reopen": _reopen,
    "classbook.portal.services.checkout_record": _record,
    "classbook.portal.services.checkout_review": _review,
    "classbook.portal.services.guardian_login_create": _login,
}
