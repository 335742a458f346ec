"""Billing pages: preview, post with progress, rules, settings."""

import pytest
from django.core.management import call_command

from classbook.billing.models import BillingRun, BillingSettings, TuitionRule
from classbook.core.tenancy import activate_account
from classbook.ledger.models import LedgerEntry
from tests.billing.helpers import enroll, make_student, monthly_rule, priced_class
from tests.conftest import office_login


def base(account):
    return f"/{account.slug}/office/billing/"


@pytest.fixture
def priced(account_a):
    with activate_account(account_a):
        klass = priced_class(monthly_rule(8000), weekdays=(1,))
        kid = make_student()
        enroll(kid, klass)
        return kid


def test_preview_lists_each_family_with_explained_lines(client, account_a, alice, priced):
    office_login(client, account_a, "alice")
    page = client.get(base(account_a) + "preview/?period=2027-01").content.decode()
    assert "Maya family" in page
    assert "Tuition January 2027: Maya" in page and "80.00 for January 2027" in page
    assert "$80.00" in page


def test_preview_without_a_month_goes_back_with_a_message(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = client.get(base(account_a) + "preview/?period=nope", follow=True)
    assert "Choose a month" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_post_a_month_and_watch_progress(client, account_a, alice, priced):
    office_login(client, account_a, "alice")
    response = client.post(base(account_a), {"period": "2027-01"})
    assert response.status_code == 302
    progress = client.get(response["Location"], headers={"HX-Request": "true"})
    assert "hx-trigger" in progress.content.decode()  # polling while queued
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    done = client.get(response["Location"]).content.decode()
    assert "100%" in done and "Posted" in done
    with activate_account(account_a):
        assert LedgerEntry.objects.filter(subtype="tuition").count() == 1
        assert BillingRun.objects.get().status == "done"


def test_bad_month_is_a_field_error(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = client.post(base(account_a), {"period": "2027-13"})
    assert response.status_code == 400
    with activate_account(account_a):
        assert not BillingRun.objects.exists()


def test_create_rules_and_assign(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = client.post(
        base(account_a) + "rules/new/",
        {"name": "Hours", "kind": "hours", "hour_table": "1 = 70\n2.5 = 150"},
    )
    assert response.status_code == 302
    with activate_account(account_a):
        rule = TuitionRule.objects.get(name="Hours")
        assert rule.hour_table == [[60, 7000], [150, 15000]]
    bad = client.post(
        base(account_a) + "rules/new/",
        {"name": "Bad", "kind": "hours", "hour_table": "one hour costs 70"},
    )
    assert bad.status_code == 400 and "hours = price" in bad.content.decode()
    no_price = client.post(base(account_a) + "rules/new/", {"name": "M", "kind": "monthly"})
    assert no_price.status_code == 400 and "Enter the price" in no_price.content.decode()


def test_settings_page_validates(client, account_a, alice):
    office_login(client, account_a, "alice")
    form = {
        "proration": "prorate",
        "due_day": "31",
        "multiclass_kind": "percent",
        "multiclass_scope": "student",
        "multiclass_second": "10",
        "multiclass_third_plus": "15",
        "sibling_kind": "percent",
        "sibling_second": "10",
        "sibling_third_plus": "15",
        "combine_locations": "on",
        "registration_fee_cents": "3500",
        "registration_fee_scope": "family",
        "membership_year_start_month": "9",
        "late_fee_cents": "1500",
        "late_fee_after_days": "10",
    }
    assert client.post(base(account_a) + "settings/", form).status_code == 400
    form["due_day"] = "5"
    assert client.post(base(account_a) + "settings/", form).status_code == 302
    with activate_account(account_a):
        assert BillingSettings.objects.get().registration_fee_cents == 3500
