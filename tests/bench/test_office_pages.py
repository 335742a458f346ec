"""The office pages of the ``office_pages`` bench make as many SQL queries on a small
data set as on a bigger one (no N+1): a family with 3 months of ledger and one student
against one with 24 months and three, a roster of 3 against 15, a week of 1 class against
5, a month with 2 payments against 20, an audit log of 5 entries against 40.

The data is built with the bench's own helpers, so they are exercised too. Timings are
measured by ``scripts/bench`` only, never here.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.audit.context import acting_as, actor_for_user
from classbook.bench import office_pages as bench
from classbook.catalog import services as catalog
from classbook.catalog.models import Program
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.core.urls import account_reverse
from classbook.families import services as families
from classbook.families.models import Student
from classbook.ledger import services as ledger
from classbook.payments import selectors as payments
from tests.conftest import office_login

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "family-results"}


def count_queries(client, url: str, params: dict | None = None, **headers) -> tuple[int, list]:
    client.get(url, params or {}, **headers)  # first request: session, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return len(captured.captured_queries), [q["sql"] for q in captured.captured_queries]


def assert_flat(client, small: tuple, big: tuple) -> int:
    """The same page (url, params, headers) for the small and the big data: same count."""
    n_small, sql_small = count_queries(client, small[0], small[1], **small[2])
    n_big, sql_big = count_queries(client, big[0], big[1], **big[2])
    extra = "\n".join(sql for sql in sql_big if sql not in sql_small)[:3000]
    assert n_small == n_big, f"{n_small} queries for the small data, {n_big} for the big:\n{extra}"
    return n_big


def make_family(name: str, kids: int, *, email: str = ""):
    return families.family_create(
        details=families.FamilyDetails(name=name, city="Austin"),
        guardian=families.GuardianDetails(
            first_name="Ana",
            last_name=name,
            email=email or f"ana@{name.lower()}.example",
            mobile_phone="(512) 555-0142",
        ),
        students=[
            families.StudentDetails(
                first_name=f"Kid{i}", last_name=name, date_of_birth=date(2018, 1, 1 + i)
            )
            for i in range(kids)
        ],
        allow_duplicate=True,
    )


def make_class(name: str, *, weekday: int = 1, hour: int = 16, capacity: int = 8):
    return catalog.class_save(
        program=Program.objects.get_or_create(name="Recreational Gymnastics")[0],
        name=name,
        location=bench.ensure_locations()[0],
        start_date=clock.account_today() - timedelta(days=60),
        end_date=clock.account_today() + timedelta(days=60),
        weekdays=[weekday],
        start_time=time(hour),
        end_time=time(hour + 1),
        capacity=capacity,
        confirm_conflicts=True,
    )


@pytest.fixture
def office(client, account_a, alice):
    office_login(client, account_a, "alice")
    with activate_account(account_a):
        yield client


def url(name: str, **kwargs) -> str:
    return account_reverse(name, **kwargs)


def test_family_page_ledger_and_search(office):
    today = clock.account_today()
    locations = bench.ensure_locations()
    small, big = make_family("Small", 1), make_family("Big", 3)
    bench.family_history(small, months=3, today=today, locations=locations)
    bench.family_history(big, months=24, today=today, locations=locations)
    # The big family: three students in classes, tags, notes, more audit history.
    kids = list(Student.objects.filter(family=big).values_list("pk", flat=True))
    for index, kid in enumerate(kids):
        bench.roster_class(make_class(f"Class {index}", weekday=index), [kid], today=today)
    families.family_set_tags(family=big, names=["VIP", "Scholarship"])
    for n in range(3):
        families.note_add(family=big, author=None, body=f"Note {n}")
    for name in ("families:detail", "ledger:family"):
        assert_flat(
            office, (url(name, family_id=small.pk), {}, {}), (url(name, family_id=big.pk), {}, {})
        )
    for n in range(12):  # 1 family matches "Sol", 13 match "Mor"
        make_family("Morales" if n else "Solis", 2, email=f"p{n}@example.com")
    make_family("Morgan", 1)
    search = url("families:list")
    assert_flat(office, (search, {"q": "Sol"}, HTMX), (search, {"q": "Mor"}, HTMX))
    assert_flat(office, (search, {"q": "Sol"}, {}), (search, {"q": ""}, {}))


def test_class_roster(office):
    today = clock.account_today()
    pool = make_family("Roster", 18)
    kids = list(Student.objects.filter(family=pool).order_by("pk").values_list("pk", flat=True))
    small, big = make_class("Small class"), make_class("Big class", weekday=2)
    bench.roster_class(small, kids[:3], today=today)
    bench.roster_class(big, kids[3:18], today=today, dropped=kids[:2])
    roster = "enrollment:roster"
    assert_flat(
        office, (url(roster, class_id=small.pk), {}, {}), (url(roster, class_id=big.pk), {}, {})
    )


def test_schedule_week(office):
    make_class("Only one", weekday=0)
    week = {"week": clock.account_today().isoformat()}
    schedule = url("catalog:schedule")
    n_small, _ = count_queries(office, schedule, week)
    for n in range(4):
        make_class(f"More {n}", weekday=n + 1, hour=15 + n)
    catalog.closure_save(
        name="Holiday", start_date=clock.account_today(), end_date=clock.account_today()
    )
    n_big, sql = count_queries(office, schedule, week)
    assert n_small == n_big, "\n".join(sql)


def test_deposit_report(office, monkeypatch):
    today = clock.account_today()
    locations = bench.ensure_locations()
    this_month, last_month = bench.month_start(today), bench.month_start(today, 1)
    for index in range(12):
        family = make_family(f"Payer{index}", 1, email=f"payer{index}@example.com")
        months = [last_month] if index < 2 else [last_month, this_month]
        for first in months if index < 2 else [this_month, this_month]:
            ledger.charge_post(
                family=family,
                charge_type="tuition",
                amount_cents=5000,
                description="Tuition",
                entry_date=first,
            )
            payment = ledger.payment_record(
                family=family,
                method=["card", "check", "cash", "echeck"][index % 4],
                amount_cents=5000,
                reference=str(1000 + index),
                entry_date=first + timedelta(days=index % 3),
                location=locations[index % 2],
            )
        if index == 5:
            ledger.refund_post(payment=payment, amount_cents=1000)

    def window(first):
        return {"start": first.isoformat(), "end": bench.month_end(first).isoformat()}

    for name in ("payments:deposits", "payments:deposits_csv"):
        assert_flat(
            office, (url(name), window(last_month), {}), (url(name), window(this_month), {})
        )
    # Above the detail limit the page shows the deposits only (one query fewer), each day
    # linked to itself; the totals and the CSV are the same.
    listed = office.get(url("payments:deposits"), window(this_month))
    listed_count, _ = count_queries(office, url("payments:deposits"), window(this_month))
    monkeypatch.setattr(payments, "DEPOSIT_DETAIL_LIMIT", 10)
    summed = office.get(url("payments:deposits"), window(this_month))
    summed_count, _ = count_queries(office, url("payments:deposits"), window(this_month))
    assert summed_count == listed_count - 1
    assert listed.context["report"]["listed"] and not summed.context["report"]["listed"]
    for key in ("total_cents", "by_method", "by_location"):
        assert summed.context["report"][key] == listed.context["report"][key]
    page = summed.content.decode()
    assert summed.context["report"]["payment_count"] == 21  # 20 payments and a refund
    assert "21 payments and refunds: too many to list" in page and "Payer3 family" not in page
    day = this_month + timedelta(days=1)
    assert f"?start={day.isoformat()}&amp;end={day.isoformat()}" in page
    csv_rows = office.get(url("payments:deposits_csv"), window(this_month)).content.decode()
    assert csv_rows.count("\n") == 22 and "Payer3 family" in csv_rows


def test_audit_log(office, alice):
    family = make_family("Audited", 1)
    log = url("audit:log")
    pages = [
        {},
        {"action": "ledger.payment_recorded"},
        {"action": "ledger."},
        {"person": str(alice.pk)},
        {"object_type": "families.family", "object_id": str(family.pk)},
    ]
    small = [count_queries(office, log, params)[0] for params in pages]
    with acting_as(actor_for_user(alice)):
        for n in range(20):
            ledger.payment_record(family=family, method="cash", amount_cents=100 + n)
            ledger.charge_post(
                family=family, charge_type="retail", amount_cents=500 + n, description=f"Shirt {n}"
            )
    big = [count_queries(office, log, params)[0] for params in pages]
    assert small == big
