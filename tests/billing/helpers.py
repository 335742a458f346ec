from datetime import date

from classbook.billing import services
from classbook.billing.models import TuitionRule
from classbook.enrollment import services as enrollment
from tests.enrollment.helpers import make_class, make_student

JAN = date(2027, 1, 1)  # Mondays: Jan 4, 11, 18, 25 · Tuesdays: Jan 5, 12, 19, 26


def monthly_rule(cents: int = 8000, name: str = "Monthly") -> TuitionRule:
    return services.tuition_rule_save(name=name, kind="monthly", amount_cents=cents)


def priced_class(rule: TuitionRule, **kwargs):
    klass = make_class(**kwargs)
    services.tuition_assign(rule=rule, klass=klass)
    return klass


def enroll(student, klass, start=date(2027, 1, 4), end=None):
    return enrollment.enroll(
        student=student, klass=klass, start_date=start, end_date=end, override_reason="billing test"
    )


__all__ = ["JAN", "enroll", "make_student", "monthly_rule", "priced_class"]
