"""The registration-day account of the rush benchmark (runs in the bench child process).

On top of the generated families: two locations and the demo catalog (``--rush-classes``,
400 by default) priced per month, the gateway pointed at the sandbox, the portal open,
and for every concurrency level its own wave of popular classes (40 classes, 2,000 open
seats) in a program of its own, so each level starts with the same seats to sell. The
parents of each wave are distinct families with a portal login and a card saved at the
gateway (made through ``payments.card_save``, as the portal's card page does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

POPULAR_CLASSES = 40
SEATS_PER_CLASS = 50
PARENT_PASSWORD = "Rush-Parent-2026"
TUITION_RULE = "Registration day tuition"


@dataclass
class Wave:
    users: int
    program_id: int
    class_ids: list[int]
    parents: list[dict]  # {"email", "students": [ids]}


def _next_month(today: date) -> date:
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def build_catalog(*, classes: int, seed: int) -> None:
    """Locations, the demo catalog, monthly tuition, the portal open for registration.

    When an earlier scenario of the same run built a catalog (``office_pages`` does),
    it is kept: the rush sells its own waves of classes either way.
    """
    from classbook.accounts.models import Location
    from classbook.accounts.services import location_save
    from classbook.billing import services as billing
    from classbook.billing.models import TuitionAssignment
    from classbook.catalog.models import Class, Program
    from classbook.demo.catalog import generate_catalog
    from classbook.portal.services import portal_settings_update

    if not Class.objects.exists():
        for name in ("Riverside", "Northgate"):
            if not Location.objects.filter(name=name).exists():
                location_save(name=name, timezone="America/Chicago")
        generate_catalog(seed=seed, classes=classes)
    rule = billing.tuition_rule_save(name=TUITION_RULE, kind="monthly", amount_cents=8500)
    priced = set(TuitionAssignment.objects.values_list("program_id", flat=True))
    for program in Program.objects.exclude(pk__in=priced):
        billing.tuition_assign(rule=rule, program=program)
    portal_settings_update(mode="active", allow_pay_later=False)


def connect_gateway(sandbox_url: str) -> None:
    from classbook.payments.services import gateway_settings_save

    gateway_settings_save(
        publishable_key="pk_test_bench",
        secret_key="sk_test_bench",
        webhook_secret="whsec_bench",
        api_base=sandbox_url,
    )


def popular_wave(*, number: int, users: int, today: date) -> Wave:
    """A program with 40 classes of 50 seats, for every age, starting next month."""
    from classbook.accounts.models import Location
    from classbook.billing import services as billing
    from classbook.billing.models import TuitionRule
    from classbook.catalog import services as catalog

    program = catalog.program_save(name=f"Registration day, wave {number} ({users} parents)")
    billing.tuition_assign(rule=TuitionRule.objects.get(name=TUITION_RULE), program=program)
    locations = list(Location.objects.order_by("pk"))
    start = _next_month(today)
    class_ids = [
        catalog.class_save(
            program=program,
            name=f"Wave {number} popular class {i + 1}",
            location=locations[i % len(locations)],
            start_date=start,
            end_date=start + timedelta(days=120),
            weekdays=[i % 6],
            start_time=time(9 + i % 10, 0),
            end_time=time(10 + i % 10, 0),
            capacity=SEATS_PER_CLASS,
            confirm_conflicts=True,
        ).pk
        for i in range(POPULAR_CLASSES)
    ]
    return Wave(users=users, program_id=program.pk, class_ids=class_ids, parents=[])


def give_parents(waves: list[Wave], *, per_wave: int, sandbox_url: str) -> None:
    """Portal logins and saved cards for ``per_wave`` distinct families per wave.

    The logins share one password hash (hashed once: hashing thousands with Argon2 would
    take minutes); logging in still verifies it with Argon2 on every request.
    """
    import stripe
    from django.contrib.auth.hashers import make_password
    from django.db.models import Count, Q

    from classbook.accounts.models import User
    from classbook.core.tenancy import require_account
    from classbook.families.models import Family, Guardian, Student
    from classbook.payments.services import card_save

    account = require_account()
    wanted = per_wave * len(waves)
    families = list(
        Family.objects.annotate(
            kids=Count("students", filter=Q(students__is_active=True)),
        )
        .filter(kids__gt=0, merged_into__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[: wanted * 2]
    )
    guardians, seen = [], set()
    for guardian in Guardian.objects.filter(
        family_id__in=families, is_primary=True, is_active=True, user__isnull=True
    ).order_by("family_id"):
        email = guardian.email.strip().lower()
        if email and email not in seen:
            seen.add(email)
            guardians.append(guardian)
    if len(guardians) < wanted:
        raise SystemExit(
            f"bench: rush needs {wanted} families with a guardian email, found "
            f"{len(guardians)}; raise --families or lower --rush-parents"
        )
    guardians = guardians[:wanted]
    password = make_password(PARENT_PASSWORD)
    users = User.objects.bulk_create(
        [
            User(
                account=account,
                kind=User.Kind.GUARDIAN,
                username=g.email.strip().lower(),
                email=g.email.strip().lower(),
                first_name=g.first_name,
                last_name=g.last_name,
                password=password,
            )
            for g in guardians
        ]
    )
    for guardian, user in zip(guardians, users, strict=True):
        guardian.user = user
    Guardian.objects.bulk_update(guardians, ["user"])
    students: dict[int, list[int]] = {}
    for family_id, student_id in (
        Student.objects.filter(family_id__in=[g.family_id for g in guardians], is_active=True)
        .order_by("family_id", "pk")
        .values_list("family_id", "pk")
    ):
        students.setdefault(family_id, []).append(student_id)
    browser = stripe.StripeClient("sk_test_browser_stand_in", base_addresses={"api": sandbox_url})
    for i, guardian in enumerate(guardians):
        method = browser.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2030,
                    "cvc": "123",
                },
            }
        )
        card_save(family=guardian.family, payment_method_id=method.id, guardian=guardian)
        waves[i // per_wave].parents.append(
            {"email": guardian.user.email, "students": students[guardian.family_id][:2]}
        )
