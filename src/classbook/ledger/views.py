"""Office pages for a family's ledger, receipts and statements."""

from datetime import date

from django.contrib import messages
from django.core.mail import EmailMessage
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.families.models import Family
from classbook.families.selectors import guardian_to_email
from classbook.ledger import services
from classbook.ledger.documents import receipt_for, render_pdf, statement_for
from classbook.ledger.forms import (
    ChargeForm,
    CreditForm,
    LedgerFilterForm,
    PaymentForm,
    ReasonForm,
    RefundForm,
    StatementsForm,
)
from classbook.ledger.models import DEBIT, LedgerEntry, StatementRun
from classbook.ledger.selectors import (
    family_balance,
    ledger_lines,
    open_items,
    refundable_cents,
)
from classbook.staff import permissions as perms
from classbook.staff.access import office_view
from classbook.staff.selectors import has_permission


def _family(family_id: int) -> Family:
    return get_object_or_404(Family.objects.filter(merged_into__isnull=True), pk=family_id)


def _entry(family: Family, entry_id: int) -> LedgerEntry:
    return get_object_or_404(LedgerEntry, pk=entry_id, family=family)


def _back(family: Family):
    return redirect(account_reverse("ledger:family", family_id=family.pk))


ENTRY_SLOT = "/2147483647/"  # stands for the entry id in a link reversed once per page


def _entry_links(family: Family, lines: list) -> list[tuple]:
    """(line, its links) for the ledger page. Each kind of per-entry link is reversed once
    with a stand-in entry id that each line's id then replaces: a ledger of three years
    has hundreds of lines, and reversing each of their links took half the page's time."""
    patterns = {
        name: account_reverse(url_name, family_id=family.pk, entry_id=int(ENTRY_SLOT[1:-1]))
        for name, url_name in [
            ("receipt", "ledger:receipt"),
            ("refund", "ledger:refund"),
            ("card_refund", "payments:refund"),
            ("reverse", "ledger:reverse"),
        ]
    }
    rows = []
    for line in lines:
        entry_id = f"/{line.entry.pk}/"
        links = {}
        for name, pattern in patterns.items():
            head, _, tail = pattern.rpartition(ENTRY_SLOT)  # the entry id comes last
            links[name] = f"{head}{entry_id}{tail}"
        rows.append((line, links))
    return rows


@office_view(perms.VIEW_LEDGER)
def family_ledger(request, family_id: int):
    family = _family(family_id)
    filters = LedgerFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    lines = ledger_lines(
        family,
        kinds=[criteria["kind"]] if criteria.get("kind") else None,
        date_from=criteria.get("date_from"),
        date_to=criteria.get("date_to"),
    )
    reversed_ids = set(
        LedgerEntry.objects.filter(family=family, reverses__isnull=False).values_list(
            "reverses_id", flat=True
        )
    )
    user = request.user
    return render(
        request,
        "ledger/family_ledger.html",
        {
            "family": family,
            "lines": lines,
            "rows": _entry_links(family, lines),
            "filters": filters,
            "figures": family_balance(family, today=clock.account_today()),
            "reversed_ids": reversed_ids,
            "can_post": has_permission(user, perms.POST_CHARGES),
            "can_take": has_permission(user, perms.TAKE_PAYMENTS),
            "can_refund": has_permission(user, perms.REFUND_PAYMENTS),
        },
    )


def _entry_form(request, family: Family, form_class, template: str, post):
    form = form_class(request.POST or None, account=request.account)
    if request.method == "POST" and form.is_valid():
        try:
            post(form.cleaned_data)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            return _back(family)
    return render(
        request, template, {"family": family, "form": form}, status=400 if form.errors else 200
    )


@office_view(perms.POST_CHARGES)
def charge_new(request, family_id: int):
    family = _family(family_id)

    def post(data):
        services.charge_post(
            family=family,
            charge_type=data["charge_type"],
            amount_cents=data["amount"],
            description=data["description"],
            entry_date=data["entry_date"],
            due_date=data["due_date"],
            location=data["location"],
        )
        messages.success(request, f"Charge “{data['description']}” posted.")

    return _entry_form(request, family, ChargeForm, "ledger/charge_form.html", post)


@office_view(perms.POST_CHARGES)
def credit_new(request, family_id: int):
    family = _family(family_id)

    def post(data):
        services.credit_post(
            family=family,
            credit_type=data["credit_type"],
            amount_cents=data["amount"],
            description=data["description"],
            entry_date=data["entry_date"],
            location=data["location"],
        )
        messages.success(request, f"Credit “{data['description']}” posted.")

    return _entry_form(request, family, CreditForm, "ledger/credit_form.html", post)


@office_view(perms.TAKE_PAYMENTS)
def payment_new(request, family_id: int):
    family = _family(family_id)
    charges = [i for i in open_items(family, direction=DEBIT) if i.entry.kind == "charge"]
    form = PaymentForm(request.POST or None, account=request.account, open_charges=charges)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.payment_record(
                family=family,
                method=data["method"],
                amount_cents=data["amount"],
                description=data["description"],
                reference=data["reference"],
                entry_date=data["entry_date"],
                location=data["location"],
                apply_to=form.applications() or None,
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Payment of {data['amount'] / 100:.2f} recorded.")
            return redirect(
                account_reverse("ledger:receipt", family_id=family.pk, entry_id=payment.pk)
            )
    return render(
        request,
        "ledger/payment_form.html",
        {"family": family, "form": form, "open_charges": charges},
        status=400 if form.errors else 200,
    )


@office_view(perms.POST_CHARGES)
def entry_reverse(request, family_id: int, entry_id: int):
    family = _family(family_id)
    entry = _entry(family, entry_id)
    if entry.kind in ("payment", "refund") and not has_permission(
        request.user, perms.REFUND_PAYMENTS
    ):
        messages.error(
            request,
            "Reversing a payment or refund needs the “Refund and void payments” permission.",
        )
        return _back(family)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.entry_reverse(entry=entry, reason=form.cleaned_data["reason"])
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"“{entry.description}” reversed.")
            return _back(family)
    return render(
        request,
        "ledger/reverse_confirm.html",
        {"family": family, "entry": entry, "form": form},
        status=400 if form.errors else 200,
    )


@office_view(perms.REFUND_PAYMENTS)
def refund_new(request, family_id: int, entry_id: int):
    family = _family(family_id)
    payment = get_object_or_404(LedgerEntry, pk=entry_id, family=family, kind="payment")
    refundable = refundable_cents(payment)
    form = RefundForm(
        request.POST or None, account=request.account, initial={"amount": f"{refundable / 100:.2f}"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.refund_post(
                payment=payment,
                amount_cents=form.cleaned_data["amount"],
                description=f"Refund: {form.cleaned_data['reason']}",
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Refund recorded.")
            return _back(family)
    return render(
        request,
        "ledger/refund_form.html",
        {"family": family, "payment": payment, "refundable": refundable, "form": form},
        status=400 if form.errors else 200,
    )


@office_view(perms.POST_CHARGES)
@require_POST
def credit_apply(request, family_id: int):
    family = _family(family_id)
    applied = services.credit_apply_all(family=family)
    messages.success(
        request,
        f"{applied / 100:.2f} of unapplied credit applied to open charges."
        if applied
        else "There was no open charge to apply credit to.",
    )
    return _back(family)


@office_view(perms.VIEW_LEDGER)
def receipt(request, family_id: int, entry_id: int):
    family = _family(family_id)
    payment = get_object_or_404(LedgerEntry, pk=entry_id, family=family, kind="payment")
    context = {
        "family": family,
        "receipt": receipt_for(payment, today=clock.account_today()),
        "guardian": guardian_to_email(family),
    }
    if request.GET.get("format") == "pdf":
        pdf = render_pdf("ledger/receipt_document.html", context)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="receipt-{payment.pk}.pdf"'
        return response
    return render(request, "ledger/receipt.html", context)


@office_view(perms.TAKE_PAYMENTS)
@require_POST
def receipt_email(request, family_id: int, entry_id: int):
    family = _family(family_id)
    payment = get_object_or_404(LedgerEntry, pk=entry_id, family=family, kind="payment")
    guardian = guardian_to_email(family)
    if guardian is None:
        messages.error(request, "No guardian of this family has an email address.")
    else:
        context = {
            "family": family,
            "guardian": guardian,
            "receipt": receipt_for(payment, today=clock.account_today()),
        }
        message = EmailMessage(
            subject=f"{request.account.name}: receipt for your payment",
            body=f"Hello {guardian.first_name},\n\nThank you for your payment of "
            f"{payment.amount_cents / 100:.2f} {request.account.currency}. "
            f"Your receipt is attached.\n\n{request.account.name}",
            to=[guardian.email],
        )
        message.attach(
            f"receipt-{payment.pk}.pdf",
            render_pdf("ledger/receipt_document.html", context),
            "application/pdf",
        )
        message.send()
        messages.success(request, f"Receipt emailed to {guardian.email}.")
    return redirect(account_reverse("ledger:receipt", family_id=family.pk, entry_id=payment.pk))


def _month(raw: str) -> date:
    try:
        return date.fromisoformat(f"{raw}-01") if raw else clock.account_today().replace(day=1)
    except ValueError:
        return clock.account_today().replace(day=1)


@office_view(perms.VIEW_LEDGER)
def statement(request, family_id: int):
    family = _family(family_id)
    month = _month(request.GET.get("month", ""))
    context = {
        "family": family,
        "statement": statement_for(family, month=month),
        "guardian": guardian_to_email(family),
    }
    if request.GET.get("format") == "pdf":
        response = HttpResponse(
            render_pdf("ledger/statement_document.html", context), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="statement-{month:%Y-%m}.pdf"'
        return response
    return render(request, "ledger/statement.html", context)


@office_view(perms.SEND_EMAIL)
def statements(request):
    form = StatementsForm(
        request.POST or None, initial={"month": clock.account_today().replace(day=1)}
    )
    if request.method == "POST" and form.is_valid():
        run = services.statements_send(
            month=form.cleaned_data["month"],
            only_with_balance=form.cleaned_data["only_with_balance"],
            by=request.user,
        )
        return redirect(account_reverse("ledger:statement_run", run_id=run.pk))
    return render(
        request,
        "ledger/statements.html",
        {"form": form, "runs": StatementRun.objects.all()[:20]},
        status=400 if form.errors else 200,
    )


@office_view(perms.SEND_EMAIL)
def statement_run(request, run_id: int):
    run = get_object_or_404(StatementRun, pk=run_id)
    template = "ledger/_statement_progress.html" if request.htmx else "ledger/statement_run.html"
    return render(request, template, {"run": run})
