"""Bench scenario ``office_pages``: the office pages staff open all day, on a big account.

On top of the generated families it builds what those pages read, at the size of a
business that has run for three years (issue #9, scenario 2):

- a catalog (``demo.catalog.generate_catalog``, about one class per 25 families, through
  the catalog services: meetings, rooms, closures, camps and their audit entries) and the
  generated students enrolled in it (bulk inserts, as the billing-run scenario does);
- one class whose roster has ``ROSTER_SIZE`` enrolled students (capacity set through
  ``class_save``) and a few who dropped earlier;
- one family (the first with three students) with 36 months of ledger history posted
  through the ledger services: tuition per student, a registration fee each August,
  payments by card, check and cash, late fees, goodwill credits, refunds, a reversal;
- every other family a monthly tuition charge and its payment (card, eCheck, check or
  cash, applied with an allocation) for each month since it joined, up to 36 months, and
  one audit entry per charge and per payment: bulk inserts of rows the services would
  write (the amounts, directions and allocations keep the ledger's invariants).

It then times each page through the logged-in test client, ``4 × repeat`` requests after
one warm-up, and counts the SQL queries of each request (``measure``).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from classbook.bench import BenchContext, Row, measure, scenario

ROSTER_SIZE = 20
HISTORY_MONTHS = 36
FAMILIES_PER_CLASS = 25
MAX_CLASSES = 400
BATCH = 500  # families per bulk insert
METHODS = ["card"] * 55 + ["echeck"] * 10 + ["check"] * 20 + ["cash"] * 15
TUITION_CENTS = 8500


def month_start(day: date, back: int = 0) -> date:
    """The first of the month ``back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def month_end(first: date) -> date:
    return month_start(first, -1) - timedelta(days=1)


def ensure_locations(count: int = 2) -> list:
    from classbook.accounts.models import Location
    from classbook.accounts.services import location_save

    have = list(Location.objects.filter(is_active=True).order_by("pk"))
    for n in range(len(have), count):
        have.append(location_save(name=f"Bench site {n + 1}", city="Austin"))
    return have


def enroll(klass, student_ids: list[int], *, start: date, end: date | None = None) -> None:
    """Enrollments as rows (the engine's checks are what the enrollment benchmarks time)."""
    from classbook.enrollment.models import Enrollment

    status = Enrollment.Status.ACTIVE if end is None else Enrollment.Status.DROPPED
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                account_id=klass.account_id,
                student_id=pk,
                klass=klass,
                start_date=start,
                end_date=end,
                status=status,
            )
            for pk in student_ids
        ],
        batch_size=1000,
    )


def fill_classes(classes: list, student_ids: list[int]) -> int:
    """Enroll students in order into the classes, three quarters full, from each class's
    first meeting; returns how many enrollments were made."""
    from django.db.models import Min

    from classbook.catalog.models import Meeting

    firsts = dict(
        Meeting.objects.filter(klass__in=classes)
        .values("klass_id")
        .annotate(first=Min("date"))
        .values_list("klass_id", "first")
    )
    made, position = 0, 0
    for klass in classes:
        if klass.pk not in firsts or position >= len(student_ids):
            continue
        take = student_ids[position : position + max(1, klass.capacity * 3 // 4)]
        position += len(take)
        enroll(klass, take, start=firsts[klass.pk])
        made += len(take)
    return made


def roster_class(klass, student_ids: list[int], *, today: date, dropped: list[int] = ()):
    """Make ``klass`` hold exactly ``student_ids`` on its next meeting (capacity through
    the catalog service), plus ``dropped`` students who left before; returns the date."""
    from classbook.catalog.models import Meeting
    from classbook.catalog.services import class_save

    meetings = Meeting.objects.filter(klass=klass).order_by("date")
    first = meetings.first().date
    upcoming = meetings.filter(date__gte=today).first() or meetings.last()
    if klass.capacity < len(student_ids) + 2:
        klass = class_save(klass=klass, capacity=len(student_ids) + 2, confirm_conflicts=True)
    if dropped:
        enroll(klass, list(dropped), start=first, end=max(first, upcoming.date - timedelta(1)))
    enroll(klass, student_ids, start=first)
    return upcoming.date


def family_history(family, *, months: int, today: date, locations: list) -> int:
    """``months`` months of a family's ledger through the ledger services, ending this
    month; returns the entries posted. Deterministic for a family."""
    from classbook.core import clock
    from classbook.families.models import Student
    from classbook.ledger import services as ledger
    from classbook.ledger.models import LedgerEntry

    rng = random.Random(family.pk)
    students = list(Student.objects.filter(family=family).order_by("pk"))
    before = LedgerEntry.objects.filter(family=family).count()
    late_fee = None
    for back in range(months - 1, -1, -1):
        first = month_start(today, back)
        moment = datetime.combine(first + timedelta(days=4), time(15), tzinfo=clock.now().tzinfo)
        where = locations[back % len(locations)]
        with clock.freeze(min(moment, clock.now())):
            for student in students:
                ledger.charge_post(
                    family=family,
                    charge_type="tuition",
                    amount_cents=TUITION_CENTS,
                    description=f"{first:%B %Y} tuition — {student.first_name}",
                    entry_date=first,
                    due_date=first,
                    location=where,
                )
            if first.month == 8:
                ledger.charge_post(
                    family=family,
                    charge_type="registration_fee",
                    amount_cents=3500,
                    description=f"Registration {first.year}–{first.year + 1}",
                    entry_date=first,
                    location=where,
                )
            if back % 6 == 3:
                late_fee = ledger.charge_post(
                    family=family,
                    charge_type="late_fee",
                    amount_cents=1500,
                    description=f"Late fee {first:%B %Y}",
                    entry_date=first + timedelta(days=10),
                    location=where,
                )
            if back % 9 == 4:
                ledger.credit_post(
                    family=family,
                    credit_type="goodwill",
                    amount_cents=1000,
                    description=f"Missed class {first:%B}",
                    entry_date=first + timedelta(days=12),
                )
            if back == 0:
                continue  # this month is still open
            method = rng.choice(["card", "card", "check", "cash"])
            payment = ledger.payment_record(
                family=family,
                method=method,
                amount_cents=TUITION_CENTS * len(students) + (3500 if first.month == 8 else 0),
                reference=f"{rng.randint(1000, 9999)}" if method == "check" else "",
                entry_date=first + timedelta(days=rng.randint(0, 6)),
                location=where,
            )
            if back % 12 == 5:
                ledger.refund_post(payment=payment, amount_cents=2500, description="Class off")
            if back == 20 and late_fee is not None:
                ledger.entry_reverse(entry=late_fee, reason="Waived: first time")
    return LedgerEntry.objects.filter(family=family).count() - before


def bulk_history(*, today: date, locations: list, exclude: set[int], seed: int) -> int:
    """Monthly tuition and its payment for every family since it joined (at most
    ``HISTORY_MONTHS``), applied in full, with the audit entries; returns entries made."""
    from django.db.models import Count, Q

    from classbook.accounts.models import User
    from classbook.audit.models import LogEntry
    from classbook.core.tenancy import require_account
    from classbook.families.models import Family
    from classbook.ledger.models import CREDIT, DEBIT, Allocation, LedgerEntry

    rng = random.Random(seed)
    owner = User.objects.filter(kind=User.Kind.STAFF).order_by("pk").first()
    families = list(
        Family.objects.filter(merged_into__isnull=True)
        .exclude(pk__in=exclude)
        .annotate(kids=Count("students", filter=Q(students__is_active=True)))
        .order_by("pk")
        .values_list("pk", "name", "created_at", "kids")
    )
    this_month = month_start(today)
    account = require_account()
    total = 0
    for start in range(0, len(families), BATCH):
        entries, pairs, logs = [], [], []
        for pk, name, created, kids in families[start : start + BATCH]:
            joined = month_start(created.date())
            months = min(
                HISTORY_MONTHS,
                (this_month.year - joined.year) * 12 + this_month.month - joined.month + 1,
            )
            where = rng.choice(locations)
            amount = TUITION_CENTS * max(1, kids)
            for back in range(months - 1, -1, -1):
                first = month_start(today, back)
                charge = LedgerEntry(
                    family_id=pk,
                    kind="charge",
                    subtype="tuition",
                    direction=DEBIT,
                    amount_cents=amount,
                    account=account,
                    currency=account.currency,
                    entry_date=first,
                    due_date=first,
                    location=where,
                    description=f"{first:%B %Y} tuition",
                    idempotency_key=f"bench:{pk}:{first:%Y-%m}",
                    posted_at=datetime.combine(first, time(6), tzinfo=created.tzinfo),
                )
                entries.append(charge)
                logs.append(_log("ledger.charge_posted", charge, name, None))
                if back == 0 and rng.random() < 0.7:
                    continue  # this month's tuition still open for most families
                method = rng.choice(METHODS)
                day = first if method in ("card", "echeck") and rng.random() < 0.8 else None
                paid_on = day or first + timedelta(days=rng.randint(0, 27))
                payment = LedgerEntry(
                    family_id=pk,
                    kind="payment",
                    subtype=method,
                    direction=CREDIT,
                    amount_cents=amount,
                    account=account,
                    currency=account.currency,
                    entry_date=min(paid_on, today),
                    location=where,
                    description=f"{method.title()} payment",
                    reference=f"ch_bench{pk}x{back}" if method == "card" else "",
                    posted_by=None if day else owner,
                    posted_at=datetime.combine(paid_on, time(10), tzinfo=created.tzinfo),
                )
                entries.append(payment)
                pairs.append((payment, charge))
                logs.append(_log("ledger.payment_recorded", payment, name, owner))
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
        Allocation.objects.bulk_create(
            [
                Allocation(account=account, source=s, target=t, amount_cents=s.amount_cents)
                for s, t in pairs
            ],
            batch_size=1000,
        )
        LogEntry.objects.bulk_create(logs, batch_size=1000)
        total += len(entries)
    return total


def _log(action: str, entry, name: str, actor):
    from classbook.audit.models import LogEntry

    return LogEntry(
        account=entry.account,
        created_at=entry.posted_at,
        actor_kind="staff" if actor else "system",
        actor=actor,
        actor_label=str(actor) if actor else "Classbook (automatic)",
        action=action,
        object_type="families.family",
        object_id=str(entry.family_id),
        object_label=f"{name} family",
        changes={"amount_cents": [None, entry.amount_cents], "type": [None, entry.subtype]},
    )


def build(ctx: BenchContext) -> dict:
    """Create the data (see the module docstring); returns what the pages need."""
    from django.db import connection, transaction
    from django.db.models import Count

    from classbook.accounts.models import User
    from classbook.audit.context import acting_as, actor_for_user
    from classbook.catalog.models import Class, Meeting
    from classbook.core import clock
    from classbook.core.dbroles import owner_connection
    from classbook.demo.catalog import generate_catalog
    from classbook.families.models import Family, Student

    today = clock.account_today()
    owner = User.objects.get(username="owner")
    with acting_as(actor_for_user(owner)), transaction.atomic():
        locations = ensure_locations()
        before = set(Class.objects.values_list("pk", flat=True))
        generate_catalog(
            seed=ctx.seed, classes=max(10, min(MAX_CLASSES, ctx.families // FAMILIES_PER_CLASS))
        )
        classes = list(Class.objects.exclude(pk__in=before).order_by("pk"))
        # The roster class: the biggest of those that meet from today on.
        upcoming = set(
            Meeting.objects.filter(klass__in=classes, date__gte=today).values_list(
                "klass_id", flat=True
            )
        )
        klass = max(
            [k for k in classes if k.pk in upcoming] or classes,
            key=lambda k: (k.capacity, -k.pk),
        )
        family = (
            Family.objects.filter(merged_into__isnull=True)
            .annotate(n=Count("students"))
            .filter(n__gte=3)
            .order_by("pk")
            .first()
        ) or Family.objects.order_by("pk").first()
        kids = list(
            Student.objects.filter(family=family).order_by("pk").values_list("pk", flat=True)
        )
        pool = list(
            Student.objects.filter(is_active=True)
            .exclude(family=family)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        cut = ROSTER_SIZE - 1  # the family's first student is the last one on the roster
        on_roster, dropped, rest = pool[:cut], pool[cut : cut + 6], pool[cut + 6 :]
        day = roster_class(klass, kids[:1] + on_roster, today=today, dropped=dropped)
        enrollments = fill_classes([k for k in classes if k.pk != klass.pk], kids[1:] + rest)
        entries = family_history(family, months=HISTORY_MONTHS, today=today, locations=locations)
        entries += bulk_history(
            today=today, locations=locations, exclude={family.pk}, seed=ctx.seed
        )
        older = (  # a family of the bulk history: its audit entries are years old too
            Family.objects.filter(merged_into__isnull=True)
            .exclude(pk=family.pk)
            .order_by("created_at", "pk")
            .first()
        )
    if connection.vendor == "postgresql":
        # What autovacuum does after big inserts; only the tables' owner may ANALYZE.
        with owner_connection(), connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    last_month = month_start(today, 1)
    return {
        "family": family,
        "older": older,
        "klass": klass,
        "day": day,
        "deposit_month": (last_month, month_end(last_month)),
        "note": f"{len(classes)} classes, {enrollments + ROSTER_SIZE} enrollments, "
        f"{entries} ledger entries",
    }


def run_pages(ctx: BenchContext, pages: list[tuple[str, str, dict, dict]]) -> list[Row]:
    """Time each (name, url, params, headers): one warm-up, then ``4 × repeat``."""
    rows = []
    for name, url, params, headers in pages:
        row = Row(scenario=name)
        response = ctx.client.get(url, params, **headers)
        for _ in range(4 * ctx.repeat):
            with measure(row):
                response = ctx.client.get(url, params, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"office_pages: {name} ({url}) answered {response.status_code}")
        row.note = _size_note(response)
        rows.append(row)
    return rows


def _size_note(response) -> str:
    size = len(response.content)
    return f"{size / 1024:.0f} KiB"


def pages_for(account, data: dict) -> list[tuple[str, str, dict, dict]]:
    """(row name, url, query, headers) of each page measured."""
    from classbook.core.tenancy import activate_account
    from classbook.core.urls import account_reverse
    from classbook.ledger.services import PAYMENT_RECORDED, REFUND_POSTED

    family, older, klass = data["family"], data["older"], data["klass"]
    start, end = data["deposit_month"]
    month = {"start": start.isoformat(), "end": end.isoformat()}
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "family-results"}
    with activate_account(account):
        url = {
            "search": account_reverse("families:list"),
            "family": account_reverse("families:detail", family_id=family.pk),
            "older": account_reverse("families:detail", family_id=older.pk),
            "ledger": account_reverse("ledger:family", family_id=family.pk),
            "roster": account_reverse("enrollment:roster", class_id=klass.pk),
            "schedule": account_reverse("catalog:schedule"),
            "deposits": account_reverse("payments:deposits"),
            "deposits_csv": account_reverse("payments:deposits_csv"),
            "audit": account_reverse("audit:log"),
        }
    week = (data["day"] - timedelta(days=data["day"].weekday())).isoformat()
    one_family = {"object_type": "families.family", "object_id": str(older.pk)}
    return [
        ("family search (htmx)", url["search"], {"q": family.name[:4]}, htmx),
        ("family page (36 months posted)", url["family"], {}, {}),
        ("family page (3-year-old family)", url["older"], {}, {}),
        (f"family ledger ({HISTORY_MONTHS} months)", url["ledger"], {}, {}),
        (f"class roster ({ROSTER_SIZE} enrolled)", url["roster"], {}, {}),
        ("schedule: week, all locations", url["schedule"], {"week": week}, {}),
        ("deposit report: month", url["deposits"], month, {}),
        ("deposit report: month CSV", url["deposits_csv"], month, {}),
        ("audit log: first page", url["audit"], {}, {}),
        ("audit log: common action", url["audit"], {"action": PAYMENT_RECORDED}, {}),
        ("audit log: rare action", url["audit"], {"action": REFUND_POSTED}, {}),
        ("audit log: one family", url["audit"], one_family, {}),
    ]


@scenario("office_pages", "Office pages on a big account: p50/p95 and queries per page")
def run(ctx: BenchContext) -> list[Row]:
    from classbook.core.tenancy import activate_account

    with activate_account(ctx.account):
        data = build(ctx)
    rows = run_pages(ctx, pages_for(ctx.account, data))
    rows[0].note = f"{rows[0].note}; {data['note']}"
    return rows
