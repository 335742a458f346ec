"""Office pages for card payments: gateway settings, taking a card payment (saved, typed
into the gateway's field, or swiped), cards on file, gateway refunds, reconciliation and
the Bank Deposit Report. Views parse, call a service or selector, and render."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta

from django.conf import settings as django_settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.money import Money
from classbook.core.urls import account_reverse
from classbook.families.models import Family
from classbook.ledger.models import DEBIT, LedgerEntry
from classbook.ledger.selectors import family_balance, open_items
from classbook.office.location_context import current_location
from classbook.payments import reconcile as reconciler
from classbook.payments import selectors, services
from classbook.payments.forms import (
    ApplyForm,
    CardPaymentForm,
    CardSourceForm,
    DepositReportForm,
    GatewayRefundForm,
    GatewaySettingsForm,
    ReconciliationForm,
    SaveCardForm,
    new_request_token,
    this_month,
)
from classbook.payments.gateway import GatewayRefused, GatewayUnavailable
from classbook.payments.models import PaymentAttempt, ReconciliationIssue, SavedCard
from classbook.payments.webhooks import sandbox_webhook_register
from classbook.staff import permissions as perms
from classbook.staff.access import office_view
from classbook.staff.selectors import allowed_location_ids, has_permission, locations_for

NOT_SET_UP = (
    "Card payments are not set up for this business yet: there are no gateway settings. "
    "Cash, check and cards taken on a separate terminal can still be recorded."
)
UNREACHABLE = "The card processor cannot be reached right now. Try again in a minute."
UNCONFIRMED = (
    "The payment could not be confirmed yet. Do not take it again: we check with the card "
    "processor automatically, and the ledger updates within a few minutes."
)
# A second submit of the same form waits this long for the first to finish.
TWIN_WAIT_SECONDS = 8.0


def _family(family_id: int) -> Family:
    return get_object_or_404(Family.objects.filter(merged_into__isnull=True), pk=family_id)


def _back(family: Family):
    return redirect(account_reverse("ledger:family", family_id=family.pk))


def _webhook_url(request) -> str:
    return request.build_absolute_uri(account_reverse("gateway_webhook"))


# --- gateway settings --------------------------------------------------------------------


@office_view(perms.MANAGE_SETTINGS)
def gateway_settings_edit(request):
    current = selectors.gateway_settings()
    if current is not None:
        initial = {
            "mode": current.mode,
            "publishable_key": current.publishable_key,
            "api_base": current.api_base,
            "duplicate_policy": current.duplicate_policy,
            "autopay_retry_days": ", ".join(str(d) for d in current.autopay_retry_days),
        }
    else:
        initial = {
            "mode": "test",
            "api_base": django_settings.CLASSBOOK_GATEWAY_SANDBOX_URL,
            "duplicate_policy": "refund",
            "autopay_retry_days": "1, 3, 7",
        }
    form = GatewaySettingsForm(
        request.POST or None,
        initial=initial,
        has_secret_key=bool(current and current.secret_key_encrypted),
        has_webhook_secret=bool(current and current.webhook_secret_encrypted),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.gateway_settings_save(
                publishable_key=data["publishable_key"],
                secret_key=data["secret_key"],
                webhook_secret=data["webhook_secret"],
                api_base=data["api_base"],
                mode=data["mode"],
                duplicate_policy=data["duplicate_policy"],
                autopay_retry_days=data["autopay_retry_days"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Gateway settings saved.")
            return redirect(account_reverse("payments:settings"))
    return render(
        request,
        "payments/settings.html",
        {"form": form, "current": current, "webhook_url": _webhook_url(request)},
        status=400 if form.errors else 200,
    )


@office_view(perms.MANAGE_SETTINGS)
@require_POST
def sandbox_webhook(request):
    current = selectors.gateway_settings()
    if current is None or not current.api_base or not current.webhook_secret:
        messages.error(
            request, "Save a sandbox address and a webhook secret first, then connect them."
        )
        return redirect(account_reverse("payments:settings"))
    try:
        sandbox_webhook_register(
            api_base=current.api_base,
            url=_webhook_url(request),
            secret=current.webhook_secret,
            name=request.account.slug,
        )
    except GatewayUnavailable as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"The sandbox now sends its events to {_webhook_url(request)}.")
    return redirect(account_reverse("payments:settings"))


# --- taking a card payment ----------------------------------------------------------------


def _gateway_context() -> dict:
    current = selectors.gateway_settings()
    ready = current is not None and bool(current.secret_key_encrypted)
    return {"gateway": current if ready else None, "not_set_up": NOT_SET_UP}


def _open_charges(family: Family):
    return [i for i in open_items(family, direction=DEBIT) if i.entry.kind == "charge"]


def _wait_for_twin(attempt: PaymentAttempt) -> PaymentAttempt:
    """The same form was submitted twice and the first submit is still talking to the
    gateway: wait a little for its outcome instead of saying "not confirmed yet"."""
    deadline = time.monotonic() + TWIN_WAIT_SECONDS
    while attempt.status == PaymentAttempt.Status.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.2)
        attempt.refresh_from_db()
    return attempt


def _label_for_new_card(payment_method_id: str) -> str:
    gateway = selectors.gateway_for_account()
    try:
        method = gateway.describe_payment_method(payment_method_id=payment_method_id)
    except (GatewayUnavailable, GatewayRefused):
        return "Card"
    brand = (method.brand or "card").title()
    return f"{brand} •••• {method.last4}"[:60]


@office_view(perms.TAKE_PAYMENTS)
def card_payment(request, family_id: int):
    family = _family(family_id)
    context = {"family": family, **_gateway_context()}
    figures = family_balance(family, today=clock.account_today())
    context["figures"] = figures
    if context["gateway"] is None:
        return render(request, "payments/card_payment.html", context)
    charges = _open_charges(family)
    cards = selectors.saved_cards(family)
    due = figures.due_now_cents or max(figures.balance_cents, 0)
    location = current_location(request)
    data = request.POST.copy() if request.method == "POST" else None
    form = CardPaymentForm(
        data,
        account=request.account,
        initial={
            "amount": f"{due / 100:.2f}" if due > 0 else "",
            "request_token": new_request_token(),
            "opened_after": selectors.latest_attempt_id(family),
            "location": location.pk if location else None,
        },
    )
    applying = ApplyForm(data, account=request.account, open_charges=charges)
    source = CardSourceForm(data, cards=cards)
    valid = request.method == "POST" and _all_valid(form, applying, source)
    context["taken_meanwhile"] = _taken_meanwhile(request, family, form) if valid else []
    if valid and not context["taken_meanwhile"]:
        try:
            attempt = _take(family, form, applying, source)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            if attempt.status == PaymentAttempt.Status.SUCCEEDED:
                return _paid(request, family, attempt, source)
            if attempt.status != PaymentAttempt.Status.FAILED:
                messages.warning(request, UNCONFIRMED)
                return redirect(
                    account_reverse("payments:attempt", family_id=family.pk, attempt_id=attempt.pk)
                )
            # Declined. Trying again is a new attempt (a fresh token) with the card entered
            # again; the amount and applications stay as typed.
            data["request_token"] = new_request_token()
            data["payment_method_id"] = ""
            form = CardPaymentForm(data, account=request.account)
            form.is_valid()
            form.add_error(
                None,
                "The card processor declined the payment: "
                f"{attempt.failure_message or 'no reason given'} Nothing was charged.",
            )
            source = CardSourceForm(cards=cards, initial={"source": data.get("source")})
    context.update(
        form=form,
        applying=applying,
        source=source,
        cards=cards,
        open_charges=charges,
        due_cents=due,
    )
    failed = bool(form.errors or applying.errors or (source.is_bound and source.errors))
    return render(request, "payments/card_payment.html", context, status=400 if failed else 200)


def _taken_meanwhile(request, family, form) -> list[PaymentAttempt]:
    """Another tab (or person) took a card payment for this family after this page was
    opened: say so before charging again, unless "Charge again anyway" was ticked."""
    opened_after = form.cleaned_data.get("opened_after")
    if opened_after is None or request.POST.get("charge_again") == "on":
        return []
    token = f"office:{family.pk}:{form.cleaned_data['request_token']}"
    others = selectors.attempts_since(family, opened_after, except_token=token)
    if others:
        taken = ", ".join(
            f"{Money(a.amount_cents, a.currency)} ({a.card_label or 'card'}, "
            f"{a.get_status_display().lower()})"
            for a in others
        )
        form.add_error(
            None,
            f"A card payment was taken for this family after this page was opened: {taken}. "
            "Check the ledger first. To charge this card as well, tick “Charge again "
            "anyway” and press the button again.",
        )
    return others


def _all_valid(form, applying, source) -> bool:
    valid = all([form.is_valid(), applying.is_valid(), source.is_valid()])
    if valid and sum(c for _, c in applying.applications()) > form.cleaned_data["amount"]:
        applying.add_error(None, "The amounts applied add up to more than the payment.")
        return False
    return valid


def _take(family, form, applying, source) -> PaymentAttempt:
    """Charge once (``services.payment_take``); the attempt as it stands afterwards."""
    data, card = form.cleaned_data, source.saved_card
    payment_method_id = source.cleaned_data["payment_method_id"]
    label = str(card) if card else _label_for_new_card(payment_method_id)
    result = services.payment_take(
        family=family,
        payment_method_id=payment_method_id,
        amount_cents=data["amount"],
        purpose=PaymentAttempt.Purpose.CHARGES,
        # Scoped to the family: a token can only ever find this family's attempt.
        request_token=f"office:{family.pk}:{data['request_token']}",
        apply_to=applying.applications(),
        location=data["location"],
        card_label=label[:60],
    )
    return _wait_for_twin(result.attempt)


def _paid(request, family, attempt, source):
    amount = Money(attempt.amount_cents, attempt.currency)
    messages.success(request, f"Card payment of {amount} received ({attempt.card_label}).")
    if source.is_new_card and source.cleaned_data.get("save_card"):
        _keep_card(
            request,
            family,
            source.cleaned_data["payment_method_id"],
            source.cleaned_data["use_for_autopay"],
        )
    return redirect(
        account_reverse("ledger:receipt", family_id=family.pk, entry_id=attempt.ledger_entry_id)
    )


def _keep_card(request, family, payment_method_id: str, use_for_autopay: bool) -> None:
    try:
        card = services.card_save(
            family=family, payment_method_id=payment_method_id, use_for_autopay=use_for_autopay
        )
    except (ValidationFailed, GatewayUnavailable, GatewayRefused) as exc:
        messages.warning(request, f"The payment went through, but the card was not saved: {exc}")
    else:
        messages.info(request, f"{card} is kept on file.")


@office_view(perms.TAKE_PAYMENTS)
@require_POST
def card_setup(request, family_id: int):
    """A SetupIntent's client secret for the browser (JSON). Errors come back as
    ``{"error": ...}`` for the page's script to show."""
    family = _family(family_id)
    try:
        _, client_secret = services.card_setup_start(family=family)
    except ValidationFailed as error:
        return JsonResponse({"error": str(error)})
    except GatewayUnavailable:
        return JsonResponse({"error": UNREACHABLE})
    except GatewayRefused as exc:
        return JsonResponse({"error": f"The card processor refused: {exc}"})
    return JsonResponse({"client_secret": client_secret})


# --- cards on file --------------------------------------------------------------------------


def _card(family: Family, card_id: int) -> SavedCard:
    return get_object_or_404(SavedCard, pk=card_id, family=family, removed_at__isnull=True)


@office_view(perms.TAKE_PAYMENTS)
def card_add(request, family_id: int):
    family = _family(family_id)
    context = {"family": family, **_gateway_context()}
    form = SaveCardForm(request.POST or None)
    if context["gateway"] is not None and request.method == "POST" and form.is_valid():
        try:
            card = services.card_save(
                family=family,
                payment_method_id=form.cleaned_data["payment_method_id"],
                use_for_autopay=form.cleaned_data["use_for_autopay"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        except GatewayUnavailable:
            form.add_error(None, UNREACHABLE)
        except GatewayRefused as exc:
            form.add_error(None, f"The card processor refused the card: {exc}")
        else:
            messages.success(request, f"{card} is kept on file.")
            return _back(family)
    context["form"] = form
    return render(request, "payments/card_add.html", context, status=400 if form.errors else 200)


@office_view(perms.TAKE_PAYMENTS)
def card_remove(request, family_id: int, card_id: int):
    family = _family(family_id)
    card = _card(family, card_id)
    if request.method == "POST":
        services.card_remove(card=card)
        messages.success(request, f"{card} removed.")
        return _back(family)
    return render(request, "payments/card_remove.html", {"family": family, "card": card})


@office_view(perms.TAKE_PAYMENTS)
@require_POST
def card_autopay(request, family_id: int, card_id: int):
    family = _family(family_id)
    card = _card(family, card_id)
    wanted = request.POST.get("use_for_autopay") == "1"
    try:
        services.card_autopay_set(card=card, use_for_autopay=wanted)
    except ValidationFailed as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Autopay will charge {card}." if wanted else f"Autopay no longer uses {card}.",
        )
    return _back(family)


# --- one attempt whose outcome is not known yet ---------------------------------------------


def _attempt(family: Family, attempt_id: int) -> PaymentAttempt:
    return get_object_or_404(PaymentAttempt, pk=attempt_id, family=family)


@office_view(perms.TAKE_PAYMENTS)
def attempt_detail(request, family_id: int, attempt_id: int):
    family = _family(family_id)
    attempt = _attempt(family, attempt_id)
    return render(
        request,
        "payments/attempt.html",
        {"family": family, "attempt": attempt, "unconfirmed": UNCONFIRMED},
    )


@office_view(perms.TAKE_PAYMENTS)
@require_POST
def attempt_check(request, family_id: int, attempt_id: int):
    family = _family(family_id)
    attempt = _attempt(family, attempt_id)
    try:
        attempt = services.attempt_resolve(attempt=attempt)
    except ValidationFailed as error:
        messages.error(request, str(error))
        return redirect(
            account_reverse("payments:attempt", family_id=family.pk, attempt_id=attempt.pk)
        )
    if attempt.status == PaymentAttempt.Status.SUCCEEDED:
        messages.success(request, "The card processor confirmed the payment.")
        return redirect(
            account_reverse("ledger:receipt", family_id=family.pk, entry_id=attempt.ledger_entry_id)
        )
    if attempt.status == PaymentAttempt.Status.FAILED:
        messages.error(request, f"The payment did not go through: {attempt.failure_message}")
    else:
        messages.info(request, "Still not confirmed; we keep checking automatically.")
    return redirect(account_reverse("payments:attempt", family_id=family.pk, attempt_id=attempt.pk))


# --- refunds through the gateway ------------------------------------------------------------


@office_view(perms.REFUND_PAYMENTS)
def gateway_refund(request, family_id: int, entry_id: int):
    family = _family(family_id)
    payment = get_object_or_404(LedgerEntry, pk=entry_id, family=family, kind="payment")
    attempt = PaymentAttempt.objects.filter(ledger_entry=payment).first()
    if attempt is None:  # cash, check, external card: the ledger's own refund page
        return redirect(account_reverse("ledger:refund", family_id=family.pk, entry_id=payment.pk))
    refundable = selectors.gateway_refundable_cents(attempt)
    form = GatewayRefundForm(
        request.POST or None,
        account=request.account,
        initial={"amount": f"{refundable / 100:.2f}"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            record = services.gateway_refund(
                payment=payment,
                amount_cents=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            amount = Money(record.amount_cents, request.account.currency)
            if record.status == "succeeded":
                card = attempt.card_label or "the card"
                messages.success(request, f"{amount} refunded to {card}.")
            else:
                messages.warning(
                    request,
                    f"The refund of {amount} could not be confirmed yet. Nothing is lost: "
                    "we check with the card processor automatically.",
                )
            return _back(family)
    return render(
        request,
        "payments/refund.html",
        {
            "family": family,
            "payment": payment,
            "attempt": attempt,
            "refundable": refundable,
            "refunds": attempt.refunds.order_by("created_at"),
            "form": form,
            **_gateway_context(),
        },
        status=400 if form.errors else 200,
    )


# --- reconciliation -------------------------------------------------------------------------


def _window(form_class, request, default_days: int | None = None, **kwargs):
    if default_days is None:
        start, end = this_month()
    else:
        end = clock.account_today()
        start = end - timedelta(days=default_days - 1)
    form = form_class(request.GET or None, initial={"start": start, "end": end}, **kwargs)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, start, end


@office_view(perms.VIEW_REPORTS)
def reconciliation(request):
    form, start, end = _window(ReconciliationForm, request, default_days=14)
    summary = selectors.reconciliation_summary(start=start, end=end)
    issues = ReconciliationIssue.objects.select_related("attempt__family")
    return render(
        request,
        "payments/reconciliation.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "summary": summary,
            "open_issues": list(issues.filter(needs_review=True)),
            "recent_issues": list(issues.filter(needs_review=False)[:50]),
            **_gateway_context(),
        },
        status=400 if form.errors else 200,
    )


@office_view(perms.VIEW_REPORTS)
@require_POST
def reconcile_now(request):
    if selectors.gateway_for_account() is None:
        messages.error(request, NOT_SET_UP)
        return redirect(account_reverse("payments:reconciliation"))
    report = reconciler.reconcile()
    if report.errors:
        messages.error(request, "Reconciliation stopped: " + "; ".join(report.errors))
    else:
        found = report.settled + report.recorded + report.duplicates + report.refunds_recorded
        messages.success(
            request,
            f"Reconciled with the card processor: {report.settled} attempt(s) settled, "
            f"{report.recorded} payment(s) and {report.refunds_recorded} refund(s) recorded, "
            f"{report.duplicates} duplicate(s), {report.flagged} flagged."
            if found or report.flagged
            else "Reconciled with the card processor: the ledger already matched.",
        )
    return redirect(account_reverse("payments:reconciliation"))


@office_view(perms.VIEW_REPORTS)
@require_POST
def issue_review(request, reconciliation_issue_id: int):
    issue = get_object_or_404(ReconciliationIssue, pk=reconciliation_issue_id)
    services.reconciliation_issue_review(issue=issue)
    messages.success(request, f"“{issue.get_kind_display()}” ({issue.gateway_id}) reviewed.")
    return redirect(account_reverse("payments:reconciliation"))


# --- the Bank Deposit Report ----------------------------------------------------------------


def _deposit_window(request):
    """(form, start, end, location ids) for this person's locations."""
    form, start, end = _window(DepositReportForm, request, locations=locations_for(request.user))
    allowed = allowed_location_ids(request.user)
    chosen = form.cleaned_data.get("location") if form.is_bound and form.is_valid() else None
    return form, start, end, {chosen.pk} if chosen else allowed


def _deposit_totals(report: selectors.DepositReport, request) -> dict:
    days: dict = {}
    for line in report.lines:
        day = days.setdefault(line.day, {"day": line.day, "lines": [], "total_cents": 0})
        day["lines"].append(line)
        day["total_cents"] += line.total_cents
    if not report.listed:  # each day links to that day alone, where its payments may fit
        for day in days.values():
            query = request.GET.copy()
            query["start"] = query["end"] = day["day"].isoformat()
            day["query"] = query.urlencode()
    by_method: dict[str, dict] = {}
    by_location: dict[str, int] = {}
    for line in report.lines:
        entry = by_method.setdefault(line.method, {"label": line.method_label, "cents": 0})
        entry["cents"] += line.total_cents
        by_location[line.location] = by_location.get(line.location, 0) + line.total_cents
    return {
        "days": list(days.values()),
        "by_method": sorted(by_method.values(), key=lambda m: m["label"]),
        "by_location": sorted(by_location.items()),
        "total_cents": sum(line.total_cents for line in report.lines),
        "listed": report.listed,
        "payment_count": report.payment_count,
    }


@office_view(perms.VIEW_REPORTS)
def deposits(request):
    form, start, end, location_ids = _deposit_window(request)
    report = selectors.deposit_report(start=start, end=end, location_ids=location_ids)
    return render(
        request,
        "payments/deposits.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "report": _deposit_totals(report, request),
            "can_export": has_permission(request.user, perms.EXPORT_DATA),
            "query": request.GET.urlencode(),
        },
        status=400 if form.errors else 200,
    )


@office_view(perms.EXPORT_DATA)
def deposits_csv(request):
    """The report as CSV, built completely inside the account (no lazy streaming)."""
    _, start, end, location_ids = _deposit_window(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["Deposit day", "Payment type", "Location", "Family", "Entry", "Reference", "Amount"]
    )
    writer.writerows(
        [
            row.day.isoformat(),
            row.method_label,
            row.location,
            row.family,
            row.entry,
            row.reference,
            f"{row.amount_cents / 100:.2f}",
        ]
        for row in selectors.deposit_rows(start=start, end=end, location_ids=location_ids)
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="deposits-{start}-to-{end}.csv"'
    return response
