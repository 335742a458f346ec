"""The Bank Deposit Report: payments less refunds by deposit day and payment type, the
gateway transaction id as reference, totals per day, type and location, location limits,
and the CSV export."""

import csv
import io
from datetime import timedelta

import pytest

from classbook.accounts.services import location_save
from classbook.core import clock
from classbook.core.tenancy import activate_account
from classbook.ledger import services as ledger
from classbook.payments import services
from tests.conftest import make_staff, office_login
from tests.payments.conftest import card
from tests.payments.page_helpers import family_owing, office_url


@pytest.fixture
def books(account_a, location_a, gateway, sandbox_url):
    """Two days of payments at two locations, one card payment with a partial refund."""
    garcia = family_owing(account_a, cents=20000, name="Garcia")
    lee = family_owing(account_a, cents=20000, name="Lee")
    with activate_account(account_a):
        north = location_save(name="North", city="Austin", phone="(512) 555-0101")
        today = clock.account_today()
        day1, day2 = today - timedelta(days=2), today - timedelta(days=1)
        ledger.payment_record(
            family=garcia, method="cash", amount_cents=5000, entry_date=day1, location=location_a
        )
        ledger.payment_record(
            family=lee,
            method="check",
            amount_cents=2000,
            reference="1042",
            entry_date=day1,
            location=location_a,
        )
        ledger.payment_record(
            family=lee, method="cash", amount_cents=1000, entry_date=day2, location=north
        )
        attempt = services.payment_take(
            family=garcia,
            payment_method_id=card(sandbox_url),
            amount_cents=8000,
            purpose="charges",
            request_token="deposit",
            location=north,
            card_label="Visa •••• 4242",
        ).attempt
        services.gateway_refund(payment=attempt.ledger_entry, amount_cents=3000, reason="Class off")
    return {
        "day1": day1,
        "day2": day2,
        "today": today,
        "north": north,
        "main": location_a,
        "charge_id": attempt.charge_id,
    }


def report(client, account, **params):
    return client.get(office_url(account, "deposits/"), params)


def window(books):
    return {"start": books["day1"].isoformat(), "end": books["today"].isoformat()}


def test_grouped_by_day_and_type_with_totals(client, account_a, alice, books):
    office_login(client, account_a, "alice")
    response = report(client, account_a, **window(books))
    assert response.status_code == 200
    days = response.context["report"]["days"]
    assert [d["day"] for d in days] == [books["day1"], books["day2"], books["today"]]
    assert [
        (line.method, line.location, line.count, line.total_cents) for line in days[0]["lines"]
    ] == [("cash", "Alpha Gym Main", 1, 5000), ("check", "Alpha Gym Main", 1, 2000)]
    assert [d["total_cents"] for d in days] == [7000, 1000, 5000]  # card 80 less refund 30
    totals = response.context["report"]
    assert {m["label"]: m["cents"] for m in totals["by_method"]} == {
        "Cash": 6000,
        "Check": 2000,
        "Card": 5000,
    }
    assert dict(totals["by_location"]) == {"Alpha Gym Main": 7000, "North": 6000}
    assert totals["total_cents"] == 13000
    page = response.content.decode()
    assert books["charge_id"] in page  # the gateway transaction id as the reference
    assert "1042" in page and "Refund: Card refund: Class off" in page
    assert "$130.00" in page


def test_default_is_this_month(client, account_a, alice, books):
    office_login(client, account_a, "alice")
    response = report(client, account_a)
    start = response.context["start"]
    assert start == books["today"].replace(day=1) and response.context["end"] == books["today"]
    assert books["charge_id"] in response.content.decode()


def test_one_location(client, account_a, alice, books):
    office_login(client, account_a, "alice")
    response = report(client, account_a, location=books["north"].pk, **window(books))
    assert {line.location for d in response.context["report"]["days"] for line in d["lines"]} == {
        "North"
    }
    assert response.context["report"]["total_cents"] == 6000


def test_location_limited_staff_see_only_their_locations(client, account_a, books):
    make_staff(account_a, "nora", groups=("Manager",), location_ids=[books["north"].pk])
    office_login(client, account_a, "nora")
    response = report(client, account_a, **window(books))
    assert response.context["report"]["total_cents"] == 6000
    assert "Alpha Gym Main" not in response.content.decode().split('id="deposit-report"')[1]
    # Asking for the other location is not possible: it is not a choice.
    refused = report(client, account_a, location=books["main"].pk, **window(books))
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get(office_url(account_a, "deposits/csv/"), window(books)).content.decode()
            )
        )
    )
    assert {row[2] for row in csv_rows[1:]} == {"North"}


def test_csv_export(client, account_a, alice, books):
    office_login(client, account_a, "alice")
    page = report(client, account_a, **window(books)).content.decode()
    assert "deposits/csv/?start=" in page
    response = client.get(office_url(account_a, "deposits/csv/"), window(books))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "Deposit day",
        "Payment type",
        "Location",
        "Family",
        "Entry",
        "Reference",
        "Amount",
    ]
    body = rows[1:]
    assert len(body) == 5
    assert sum(float(row[6]) for row in body) == 130.00
    card_rows = [row for row in body if row[1] == "Card"]
    assert sorted(row[6] for row in card_rows) == ["-30.00", "80.00"]
    assert any(row[5] == books["charge_id"] for row in card_rows)
    assert [row[0] for row in body] == sorted(row[0] for row in body)


def test_bad_dates_are_explained(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = report(client, account_a, start="2026-05-10", end="2026-05-01")
    assert response.status_code == 400 and "cannot be before" in response.content.decode()
    assert report(client, account_a, start="yesterday", end="").status_code == 400


def test_the_csv_needs_the_export_permission(client, account_a, books):
    make_staff(account_a, "rita", permission_codes=["reports.view"])
    office_login(client, account_a, "rita")
    page = report(client, account_a, **window(books)).content.decode()
    assert "deposits/csv/" not in page
    response = client.get(office_url(account_a, "deposits/csv/"), window(books))
    assert response.status_code == 403 and "Export data" in response.content.decode()


def test_a_card_payment_is_on_the_local_day_it_was_taken(account_a, gateway):
    """8:30 PM in Austin is 02:30 UTC the next day: the deposit day is the local one."""
    from datetime import UTC, date, datetime

    from classbook.payments.gateway import Intent
    from classbook.payments.models import PaymentAttempt

    family = family_owing(account_a)
    with activate_account(account_a):
        attempt = PaymentAttempt.objects.create(
            family=family,
            amount_cents=8000,
            currency="USD",
            purpose="charges",
            payment_method_id="pm_x",
            status="processing",
        )
        intent = Intent(
            id="pi_evening",
            status="succeeded",
            amount_cents=8000,
            currency="USD",
            charge_id="ch_evening",
            created=datetime(2027, 1, 6, 2, 30, tzinfo=UTC),
        )
        settled = services.attempt_settle(attempt=attempt, intent=intent)
    assert settled.ledger_entry.entry_date == date(2027, 1, 5)
