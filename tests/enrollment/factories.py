"""Row-makers for enrollment models (merged into tests/tenant_factories.py)."""

from datetime import UTC, date, datetime

from classbook.catalog.models import CampOption
from classbook.enrollment.models import (
    CampBooking,
    Enrollment,
    EnrollmentRequest,
    EnrollmentSettings,
    Hold,
    MakeupToken,
    Visit,
    WaitlistEntry,
)
from tests.catalog.factories import FACTORIES as CATALOG
from tests.enrollment.helpers import make_student


def _class(n):
    from classbook.catalog.models import Class

    return CATALOG[Class](f"E{n}")


def _meeting(n):
    from classbook.catalog.models import Meeting

    return CATALOG[Meeting](f"E{n}")


def _camp_day(n):
    from classbook.catalog.models import CampDay

    return CATALOG[CampDay](f"E{n}")


def _booking(n):
    day = _camp_day(n)
    option = CampOption.objects.create(
        camp=day.camp, kind="full", start_time="09:00", end_time="15:00", price_cents=5000
    )
    return CampBooking.objects.create(student=make_student(f"B{n}"), camp_day=day, option=option)


FACTORIES = {
    Enrollment: lambda n: Enrollment.objects.create(
        student=make_student(f"E{n}"), klass=_class(n), start_date=date(2026, 9, 1)
    ),
    CampBooking: _booking,
    Visit: lambda n: Visit.objects.create(
        kind="trial", student=make_student(f"V{n}"), meeting=_meeting(n)
    ),
    MakeupToken: lambda n: MakeupToken.objects.create(
        student=make_student(f"M{n}"), reason="absence", expires_on=date(2027, 1, 1)
    ),
    Hold: lambda n: Hold.objects.create(
        cart=f"c{n}",
        klass=_class(f"H{n}"),
        start_date=date(2026, 9, 1),
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    ),
    WaitlistEntry: lambda n: WaitlistEntry.objects.create(
        student=make_student(f"W{n}"), klass=_class(f"W{n}"), start_date=date(2026, 9, 1)
    ),
    EnrollmentRequest: lambda n: EnrollmentRequest.objects.create(
        kind="trial", student=make_student(f"R{n}")
    ),
    EnrollmentSettings: lambda n: EnrollmentSettings.objects.create(),
}
