"""The office ledger pages: post, pay, reverse, refund, receipts and statements."""

from datetime import date

import pytest
from django.core import mail
from django.core.management import call_command

from classbook.core.tenancy import activate_account
from classbook.families.models import Guardian
from classbook.ledger import services
from classbook.ledger.models import LedgerEntry, StatementRun
from classbook.ledger.selectors import family_balance, refundable_cents
from tests.conftest import make_staff, office_login
from tests.ledger.helpers import make_family


@pytest.fixture
def garcia(account_a):
    with activate_account(account_a):
        family = make_family("Garcia")
        Guardian.objects.create(
            family=family,
            first_name="Ana",
            last_name="Garcia",
            email="ana@example.com",
            is_primary=True,
        )
        return family


def url(account, family, tail=""):
    return f"/{account.slug}/office/ledger/families/{family.pk}/{tail}"


def test_ledger_page_shows_balance_and_running_lines(client, account_a, alice, garcia):
    with activate_account(account_a):
        services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=8500,
            description="November tuition",
            entry_date=date(2026, 11, 1),
        )
        services.payment_record(
            family=garcia, method="cash", amount_cents=5000, entry_date=date(2026, 11, 3)
        )
    office_login(client, account_a, "alice")
    page = client.get(url(account_a, garcia)).content.decode()
    assert "November tuition" in page
    assert "$85.00" in page and "$50.00" in page and "$35.00" in page


def test_post_a_charge_from_the_page(client, account_a, alice, garcia):
    office_login(client, account_a, "alice")
    response = client.post(
        url(account_a, garcia, "charges/new/"),
        {
            "charge_type": "retail",
            "description": "Team leotard",
            "amount": "$45.50",
            "entry_date": "2026-11-20",
            "due_date": "",
            "location": "",
        },
    )
    assert response.status_code == 302
    with activate_account(account_a):
        entry = LedgerEntry.objects.get(family=garcia)
    assert (entry.kind, entry.amount_cents, entry.description) == ("charge", 4550, "Team leotard")


@pytest.mark.parametrize(
    "amount,message",
    [
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("12.345", "such as 45"),
        ("abc", "such as 45"),
        ("", "required"),
    ],
)
def test_bad_amounts_get_a_field_message_and_post_nothing(
    client, account_a, alice, garcia, amount, message
):
    office_login(client, account_a, "alice")
    response = client.post(
        url(account_a, garcia, "charges/new/"),
        {"charge_type": "retail", "description": "x", "amount": amount, "entry_date": "2026-11-20"},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(account_a):
        assert not LedgerEntry.objects.exists()


def test_due_date_before_charge_date_is_refused(client, account_a, alice, garcia):
    office_login(client, account_a, "alice")
    response = client.post(
        url(account_a, garcia, "charges/new/"),
        {
            "charge_type": "tuition",
            "description": "x",
            "amount": "10",
            "entry_date": "2026-11-20",
            "due_date": "2026-11-01",
        },
    )
    assert response.status_code == 400
    assert "cannot be before" in response.content.decode()


def test_record_a_check_applied_to_a_chosen_charge(client, account_a, alice, garcia):
    with activate_account(account_a):
        old = services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=5000,
            description="October",
            entry_date=date(2026, 10, 1),
        )
        new = services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=5000,
            description="November",
            entry_date=date(2026, 11, 1),
        )
    office_login(client, account_a, "alice")
    response = client.post(
        url(account_a, garcia, "payments/new/"),
        {
            "method": "check",
            "amount": "50",
            "reference": "1042",
            "entry_date": "2026-11-20",
            f"apply_{new.pk}": "50",
            f"apply_{old.pk}": "",
        },
    )
    assert response.status_code == 302 and "/receipt/" in response["Location"]
    with activate_account(account_a):
        payment = LedgerEntry.objects.get(kind="payment")
        assert payment.allocations_out.get().target_id == new.pk
        receipt = client.get(response["Location"]).content.decode()
    assert "November" in receipt and "#1042" in receipt


def test_applying_more_than_paid_is_refused(client, account_a, alice, garcia):
    with activate_account(account_a):
        charge = services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=9000,
            description="Nov",
            entry_date=date(2026, 11, 1),
        )
    office_login(client, account_a, "alice")
    response = client.post(
        url(account_a, garcia, "payments/new/"),
        {"method": "cash", "amount": "20", "entry_date": "2026-11-20", f"apply_{charge.pk}": "30"},
    )
    assert response.status_code == 400
    assert "more than the payment" in response.content.decode()


def test_reverse_needs_a_reason_and_keeps_both_entries(client, account_a, alice, garcia):
    with activate_account(account_a):
        charge = services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=9000,
            description="Duplicate",
            entry_date=date(2026, 11, 1),
        )
    office_login(client, account_a, "alice")
    target = url(account_a, garcia, f"entries/{charge.pk}/reverse/")
    assert client.post(target, {"reason": ""}).status_code == 400
    assert client.post(target, {"reason": "Posted twice"}).status_code == 302
    with activate_account(account_a):
        assert LedgerEntry.objects.filter(family=garcia).count() == 2
        assert family_balance(garcia, today=date(2026, 11, 21)).balance_cents == 0


def test_refund_above_refundable_is_refused(client, account_a, alice, garcia):
    with activate_account(account_a):
        payment = services.payment_record(family=garcia, method="cash", amount_cents=3000)
    office_login(client, account_a, "alice")
    target = url(account_a, garcia, f"entries/{payment.pk}/refund/")
    response = client.post(target, {"amount": "40", "reason": "Class cancelled"})
    assert response.status_code == 400 and "30.00" in response.content.decode()
    assert client.post(target, {"amount": "10", "reason": "Class cancelled"}).status_code == 302
    with activate_account(account_a):
        assert refundable_cents(payment) == 2000


def test_front_desk_cannot_reverse_a_payment(client, account_a, garcia):
    make_staff(account_a, "fran", groups=("Front Desk",), permission_codes=["ledger.post"])
    with activate_account(account_a):
        payment = services.payment_record(family=garcia, method="cash", amount_cents=3000)
    office_login(client, account_a, "fran")
    response = client.post(
        url(account_a, garcia, f"entries/{payment.pk}/reverse/"), {"reason": "oops"}, follow=True
    )
    assert "Refund and void payments" in response.content.decode()
    with activate_account(account_a):
        assert not LedgerEntry.objects.filter(kind="reversal").exists()


def test_receipt_as_pdf_and_by_email(client, account_a, alice, garcia):
    with activate_account(account_a):
        payment = services.payment_record(family=garcia, method="cash", amount_cents=4200)
    office_login(client, account_a, "alice")
    receipt = url(account_a, garcia, f"entries/{payment.pk}/receipt/")
    pdf = client.get(receipt + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.post(receipt + "email/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert message.attachments[0][0] == f"receipt-{payment.pk}.pdf"


def test_statement_html_and_pdf(client, account_a, alice, garcia):
    with activate_account(account_a):
        services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=8000,
            description="Oct tuition",
            entry_date=date(2026, 10, 1),
        )
        services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=8000,
            description="Nov tuition",
            entry_date=date(2026, 11, 1),
        )
    office_login(client, account_a, "alice")
    page = client.get(url(account_a, garcia, "statement/?month=2026-11")).content.decode()
    assert "Balance brought forward" in page and "$80.00" in page and "$160.00" in page
    assert "Oct tuition" not in page
    pdf = client.get(url(account_a, garcia, "statement/?month=2026-11&format=pdf"))
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_statements_are_emailed_by_the_worker_with_progress(client, account_a, alice, garcia):
    with activate_account(account_a):
        services.charge_post(
            family=garcia,
            charge_type="tuition",
            amount_cents=8000,
            description="Nov tuition",
            entry_date=date(2026, 11, 1),
        )
        no_email = make_family("Nomail")
        services.charge_post(
            family=no_email,
            charge_type="tuition",
            amount_cents=100,
            description="Nov tuition",
            entry_date=date(2026, 11, 1),
        )
        make_family("Paid up")  # no ledger activity: not included
    office_login(client, account_a, "alice")
    response = client.post(
        f"/{account_a.slug}/office/ledger/statements/",
        {"month": "2026-11", "only_with_balance": "on"},
    )
    assert response.status_code == 302
    with activate_account(account_a):
        run = StatementRun.objects.get()
    assert (run.total, run.status) == (2, "queued")
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
    with activate_account(account_a):
        run.refresh_from_db()
    assert (run.status, run.sent, run.skipped, run.percent) == ("done", 1, 1, 100)
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    progress = client.get(response["Location"], headers={"HX-Request": "true"})
    assert "100%" in progress.content.decode() and "<html" not in progress.content.decode()
