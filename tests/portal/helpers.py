"""A gym with priced classes, and families with portal logins, made through the real
services (catalog, billing, families, portal)."""

from __future__ import annotations

from datetime import date, time

from classbook.accounts.models import Location
from classbook.billing import services as billing
from classbook.catalog import services as catalog
from classbook.catalog.models import CampDay, Level, Program
from classbook.families import services as families
from classbook.families.models import Guardian
from classbook.portal import services as portal
from tests.conftest import PASSWORD

TERM_START = date(2027, 1, 4)  # a Monday after the suite's real "today" (Nov 2026)
TERM_END = date(2027, 3, 29)
FIRST_TUESDAY = date(2027, 1, 5)
MONTHLY_CENTS = 8000


def portal_on(**extra):
    values = {"mode": "active", "allow_pay_later": False, **extra}
    return portal.portal_settings_update(**values)


def program(name: str = "Recreational Gymnastics") -> Program:
    existing = Program.objects.filter(name=name).first()
    return existing or catalog.program_save(name=name)


def level(name: str, position: int, prog: Program | None = None) -> Level:
    prog = prog or program()
    return Level.objects.filter(program=prog, name=name).first() or catalog.level_save(
        program=prog, name=name, position=position
    )


def monthly_rule(cents: int = MONTHLY_CENTS, *, prog: Program | None = None, name: str = "Monthly"):
    from classbook.billing.models import TuitionRule

    rule = TuitionRule.objects.filter(name=name).first() or billing.tuition_rule_save(
        name=name, kind="monthly", amount_cents=cents
    )
    billing.tuition_assign(rule=rule, program=prog or program())
    return rule


def make_class(
    name: str = "Level 1 Tumblers",
    *,
    capacity: int = 6,
    weekdays=(1,),
    min_age_months: int | None = 60,
    max_age_months: int | None = 119,
    start: date = TERM_START,
    end: date | None = TERM_END,
    prog: Program | None = None,
    **extra,
):
    extra.setdefault("location", Location.objects.first())
    return catalog.class_save(
        program=prog or program(),
        name=name,
        start_date=start,
        end_date=end,
        weekdays=list(weekdays),
        start_time=time(16, 30),
        end_time=time(17, 30),
        capacity=capacity,
        min_age_months=min_age_months,
        max_age_months=max_age_months,
        confirm_conflicts=True,
        **extra,
    )


def make_camp(*, day_capacity: int = 5, signup_mode: str = "per_day", price_cents: int = 6500):
    return catalog.camp_save(
        program=program(),
        location=Location.objects.first(),
        name="Summer Ninja Week",
        start_date=date(2027, 6, 14),
        end_date=date(2027, 6, 18),
        day_capacity=day_capacity,
        signup_mode=signup_mode,
        options=[
            {
                "kind": "full",
                "start_time": time(9),
                "end_time": time(16),
                "price_cents": price_cents,
            },
            {"kind": "am", "start_time": time(9), "end_time": time(12), "price_cents": 4000},
        ],
    )


def camp_days(camp) -> list[CampDay]:
    return list(CampDay.objects.filter(camp=camp).order_by("date"))


def make_family(
    name: str = "Garcia",
    *,
    email: str | None = None,
    children=(("Ana", date(2019, 3, 4), "female"),),
    login: bool = True,
):
    family = families.family_create(
        details=families.FamilyDetails(name=name),
        guardian=families.GuardianDetails(
            first_name="Maria",
            last_name=name,
            email=email or f"maria@{name.lower()}.example",
            mobile_phone="(512) 555-0142",
        ),
        students=[
            families.StudentDetails(first_name=first, last_name=name, date_of_birth=born, gender=g)
            for first, born, g in children
        ],
        allow_duplicate=True,
    )
    if login:
        guardian = Guardian.objects.get(family=family, is_primary=True)
        portal.guardian_login_create(guardian=guardian, password=PASSWORD)
    return family


def guardian_login(client, account, family) -> None:
    from classbook.core.tenancy import activate_account

    with activate_account(account):
        guardian = Guardian.objects.get(family=family, is_primary=True)
    response = client.post(
        f"/{account.slug}/portal/login/", {"username": guardian.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:500]
