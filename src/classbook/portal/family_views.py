"""The signed-in family's pages: dashboard, schedule (and its iCal feed), ledger,
statements and receipts, paying a balance, cards, guardians, students, waitlist offers and
requests to the office. Every object is looked up inside the guardian's own family, so an
id of another family (or another business) is simply not found.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from classbook.accounts.models import User
from classbook.catalog.models import Class, Meeting
from classbook.core import clock
from classbook.core.errors import ClassbookError, ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.enrollment import services as enrollment
from classbook.enrollment.models import Enrollment, MakeupToken, WaitlistEntry
from classbook.families import services as families
from classbook.families.models import Guardian, Student
from classbook.ledger.documents import receipt_for, render_pdf, statement_for
from classbook.ledger.models import LedgerEntry
from classbook.ledger.selectors import family_balance, ledger_lines
from classbook.payments.gateway import GatewayRefused, GatewayUnavailable
from classbook.payments.models import PaymentAttempt, SavedCard
from classbook.payments.selectors import gateway_settings, saved_cards
from classbook.portal import checkout as completing
from classbook.portal import ical, selectors
from classbook.portal.access import family_view, render_portal
from classbook.portal.forms import (
    DropRequestForm,
    InviteGuardianForm,
    PayBalanceForm,
    SaveCardForm,
    StudentForm,
    TransferRequestForm,
    VisitRequestForm,
)
from classbook.portal.selectors import FinderFilter, Who

ICAL_SALT = "classbook.portal.ical"


def _today() -> date:
    return clock.account_today()


def ical_token(family) -> str:
    """A signed, unguessable token naming the family's calendar feed."""
    return signing.Signer(salt=ICAL_SALT).sign(f"{family.account_id}.{family.pk}")


def _guardian_emails_used(email: str, *, excluding: int | None = None) -> bool:
    users = User.objects.filter(kind=User.Kind.GUARDIAN, email__iexact=email)
    if excluding:
        users = users.exclude(pk=excluding)
    return users.exists()


# --- dashboard -------------------------------------------------------------------------------


@family_view(redirect_foreign=True)
def dashboard(request):
    family, today = request.family, _today()
    overview = selectors.family_overview(family, today=today)
    figures = family_balance(family, today=today)
    return render_portal(
        request,
        "portal/family/dashboard.html",
        {
            "family": family,
            "overview": overview,
            "figures": figures,
            "credit_cents": max(-figures.balance_cents, 0),
            "students": overview.students,
            "week": selectors.family_schedule(family, start=today, end=today + timedelta(days=7)),
            "lines": ledger_lines(family)[-5:][::-1],
            "now": clock.now(),
        },
    )


# --- schedule and iCal -----------------------------------------------------------------------


@family_view
def schedule(request):
    family, today = request.family, _today()
    feed = request.build_absolute_uri(account_reverse("portal:ical", token=ical_token(family)))
    return render_portal(
        request,
        "portal/family/schedule.html",
        {
            "items": selectors.family_schedule(family, start=today, end=today + timedelta(days=28)),
            "feed": feed,
            "webcal": feed.replace("https://", "webcal://").replace("http://", "webcal://"),
        },
    )


def ical_feed(request, token: str):
    """The family's upcoming meetings as text/calendar (no log-in: calendar apps fetch
    it; the signed token is the key)."""
    try:
        value = signing.Signer(salt=ICAL_SALT).unsign(token)
        account_id, family_id = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise Http404("No such calendar") from None
    if account_id != request.account.pk:
        raise Http404("No such calendar")
    from classbook.families.models import Family

    family = Family.objects.filter(pk=family_id).first()
    if family is None:
        raise Http404("No such calendar")
    today = _today()
    items = selectors.family_schedule(
        family, start=today - timedelta(days=7), end=today + timedelta(days=180)
    )
    body = ical.calendar(
        name=f"{request.account.name} · {family}",
        items=items,
        domain=request.get_host().split(":")[0] or "classbook",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="classes.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- money -------------------------------------------------------------------------------------


@family_view
def ledger(request):
    family, today = request.family, _today()
    first = today.replace(day=1)
    months = []
    for back in range(12):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(date(year, month + 1, 1))
    return render_portal(
        request,
        "portal/family/ledger.html",
        {
            "figures": family_balance(family, today=today),
            "lines": ledger_lines(family)[::-1],
            "months": months,
        },
    )


@family_view
def statement(request, year: int, month: int):
    try:
        first = date(year, month, 1)
    except ValueError:
        raise Http404("No such month") from None
    context = {
        "family": request.family,
        "statement": statement_for(request.family, month=first),
        "guardian": request.guardian,
    }
    if request.GET.get("format") == "pdf":
        response = HttpResponse(
            render_pdf("ledger/statement_document.html", context), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="statement-{first:%Y-%m}.pdf"'
        return response
    return HttpResponse(
        render_to_string(
            "ledger/statement_document.html", {"account": request.account, **context}, request
        )
    )


@family_view
def receipt(request, entry_id: int):
    payment = get_object_or_404(LedgerEntry, pk=entry_id, family=request.family, kind="payment")
    context = {
        "family": request.family,
        "receipt": receipt_for(payment, today=_today()),
        "guardian": request.guardian,
    }
    if request.GET.get("format") == "pdf":
        response = HttpResponse(
            render_pdf("ledger/receipt_document.html", context), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="receipt-{payment.pk}.pdf"'
        return response
    return HttpResponse(
        render_to_string(
            "ledger/receipt_document.html", {"account": request.account, **context}, request
        )
    )


def _pay_form(request, data=None, *, figures, cards, initial=None):
    return PayBalanceForm(
        data,
        cards=cards,
        new_card=gateway_settings() is not None,
        currency=request.account.currency,
        most_cents=max(figures.balance_cents, 0),
        initial=initial,
    )


@family_view
def pay(request):
    """Pay (part of) the balance with a saved or new card (``purpose="charges"``)."""
    from classbook.payments import services as payments

    family, today = request.family, _today()
    figures = family_balance(family, today=today)
    cards = saved_cards(family)
    due = figures.due_now_cents or figures.balance_cents
    form = _pay_form(
        request,
        request.POST or None,
        figures=figures,
        cards=cards,
        initial={
            "amount": f"{max(due, 0) / 100:.2f}",
            "request_token": secrets.token_urlsafe(16),
        },
    )
    status, pay_errors = 200, []
    if request.method == "POST":
        status = 400
        if form.is_valid():
            card = form.saved_card
            pm = card.payment_method_id if card else form.cleaned_data["payment_method_id"]
            try:
                result = payments.payment_take(
                    family=family,
                    payment_method_id=pm,
                    amount_cents=form.cleaned_data["amount"],
                    purpose=PaymentAttempt.Purpose.CHARGES,
                    request_token=f"portal-balance:{family.pk}:{form.cleaned_data['request_token']}",
                    card_label=(str(card) if card else completing.card_label(pm))[:60],
                )
            except ValidationFailed as error:
                form.add_error(None, str(error))
            else:
                attempt = result.attempt
                if result.succeeded:
                    if card is None and form.cleaned_data.get("save_card"):
                        _keep_card(request, family, pm)
                    messages.success(request, result.message)
                    return redirect(
                        account_reverse("portal:receipt", entry_id=attempt.ledger_entry_id)
                    )
                if result.failed:
                    form = _pay_form(
                        request,
                        None,
                        figures=figures,
                        cards=cards,
                        initial={
                            "amount": request.POST.get("amount"),
                            "request_token": secrets.token_urlsafe(16),
                        },
                    )
                    pay_errors = [
                        f"The card was declined: {attempt.failure_message} Nothing was charged."
                    ]
                    status = 402
                else:
                    messages.info(request, result.message)
                    return redirect(account_reverse("portal:my_family"))
    return render_portal(
        request,
        "portal/family/pay.html",
        {"form": form, "figures": figures, "gateway": gateway_settings(), "pay_errors": pay_errors},
        status=status,
    )


def _keep_card(request, family, payment_method_id: str) -> None:
    from classbook.payments import services as payments

    try:
        card = payments.card_save(
            family=family, payment_method_id=payment_method_id, guardian=request.guardian
        )
    except (ClassbookError, GatewayUnavailable, GatewayRefused) as exc:
        messages.warning(request, f"The payment went through, but the card was not kept: {exc}")
    else:
        messages.info(request, f"{card} is kept on file.")


@family_view
def cards(request):
    from classbook.payments import services as payments

    family = request.family
    form = SaveCardForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                card = payments.card_save(
                    family=family,
                    payment_method_id=form.cleaned_data["payment_method_id"],
                    guardian=request.guardian,
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            except GatewayUnavailable:
                form.add_error(None, "The card processor could not be reached; try again soon.")
            except GatewayRefused as exc:
                form.add_error(None, f"The card processor refused the card: {exc}")
            else:
                messages.success(request, f"{card} is kept on file.")
                return redirect(account_reverse("portal:cards"))
    return render_portal(
        request,
        "portal/family/cards.html",
        {"cards": saved_cards(family), "form": form, "gateway": gateway_settings()},
        status=status,
    )


@family_view
@require_POST
def card_setup(request):
    from classbook.portal.views import _card_setup_json

    return _card_setup_json(request.family)


@family_view
@require_POST
def card_remove(request, card_id: int):
    from classbook.payments import services as payments

    card = get_object_or_404(SavedCard, pk=card_id, family=request.family, removed_at__isnull=True)
    payments.card_remove(card=card)
    messages.success(request, f"{card} removed.")
    return redirect(account_reverse("portal:cards"))


# --- people ------------------------------------------------------------------------------------


@family_view
def guardians(request):
    family = request.family
    form = InviteGuardianForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            if _guardian_emails_used(data["email"]):
                form.add_error("email", f"{data['email']} already has a parent portal login here.")
            else:
                try:
                    with transaction.atomic():
                        guardian = families.guardian_add(
                            family=family,
                            details=families.GuardianDetails(
                                first_name=data["first_name"],
                                last_name=data["last_name"],
                                email=data["email"],
                                relationship=data["relationship"],
                                mobile_phone=data["mobile_phone"],
                            ),
                        )
                        families.guardian_portal_invite(
                            guardian=guardian, base_url=request.build_absolute_uri("/")
                        )
                except ValidationFailed as error:
                    add_service_errors(form, error)
                else:
                    messages.success(
                        request,
                        f"{guardian.first_name} is added. We emailed {guardian.email} a link to "
                        "choose a password for their own log-in.",
                    )
                    return redirect(account_reverse("portal:guardians"))
    return render_portal(
        request,
        "portal/family/guardians.html",
        {
            "guardians": Guardian.objects.filter(family=family, is_active=True).select_related(
                "user"
            ),
            "form": form,
        },
        status=status,
    )


@family_view
def students(request):
    family = request.family
    form = StudentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                student = families.student_add(
                    family=family, details=families.StudentDetails(**form.cleaned_data)
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{student.full_name} is added.")
                target = request.POST.get("next", "")
                if target == "checkout":
                    return redirect(account_reverse("portal:checkout"))
                return redirect(account_reverse("portal:students"))
    return render_portal(
        request,
        "portal/family/students.html",
        {
            "students": Student.objects.filter(family=family, is_active=True).select_related(
                "level"
            ),
            "form": form,
            "next": request.GET.get("next", ""),
        },
        status=status,
    )


@family_view
def student_edit(request, student_id: int):
    student = get_object_or_404(Student, pk=student_id, family=request.family, is_active=True)
    initial = {
        name: getattr(student, name)
        for name in (
            "first_name",
            "last_name",
            "date_of_birth",
            "gender",
            "medical_notes",
            "allergies",
        )
    }
    form = StudentForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                families.student_update(
                    student=student,
                    details=families.StudentDetails(
                        **form.cleaned_data, level=student.level, notes=student.notes
                    ),
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"{form.cleaned_data['first_name']}'s details are saved.")
                return redirect(account_reverse("portal:students"))
    return render_portal(
        request,
        "portal/family/student_edit.html",
        {"student": student, "form": form},
        status=status,
    )


# --- waitlist offers ---------------------------------------------------------------------------


def _entry(request, entry_id: int) -> WaitlistEntry:
    return get_object_or_404(
        WaitlistEntry.objects.select_related("student", "klass", "camp_day__camp"),
        pk=entry_id,
        student__family=request.family,
    )


@family_view
@require_POST
def offer_claim(request, entry_id: int):
    entry = _entry(request, entry_id)
    try:
        claimed = enrollment.offer_claim(entry=entry, source="portal")
    except ClassbookError as error:
        reasons = getattr(error, "reasons", None)
        messages.error(request, " ".join(reasons) if reasons else str(error))
    else:
        messages.success(
            request,
            f"Done: {claimed}. Tuition appears on your account with the next billing.",
        )
    return redirect(account_reverse("portal:my_family"))


@family_view
@require_POST
def offer_decline(request, entry_id: int):
    entry = _entry(request, entry_id)
    try:
        enrollment.offer_decline(entry=entry)
    except ValidationFailed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "You declined the seat; it goes to the next family.")
    return redirect(account_reverse("portal:my_family"))


# --- requests to the office ----------------------------------------------------------------------


def _enrollments(family):
    return list(
        Enrollment.objects.filter(student__family=family, status=Enrollment.Status.ACTIVE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=_today()))
        .select_related("student__level", "klass")
        .order_by("student__first_name", "klass__name")
    )


def earliest_drop(settings, today: date) -> date:
    """The first date a drop asked for today may take effect, per the account's policy."""
    earliest = today + timedelta(days=settings.drop_notice_days)
    if settings.drop_on_month_start and earliest.day != 1:
        year, month = divmod(earliest.year * 12 + earliest.month, 12)
        earliest = date(year, month + 1, 1)
    return earliest


@family_view
def requests_list(request):
    overview = selectors.family_overview(request.family, today=_today())
    return render_portal(
        request,
        "portal/family/requests.html",
        {
            "requests": overview.requests,
            "enrollments": overview.enrollments,
            "makeups": overview.makeups,
        },
    )


def _sent(request, made):
    messages.success(
        request,
        f"Your {made.get_kind_display().lower()} request is with the office. You will see "
        "their answer here.",
    )
    return redirect(account_reverse("portal:requests"))


@family_view
def request_drop(request):
    today, settings = _today(), request.portal
    enrollments = _enrollments(request.family)
    form = DropRequestForm(
        request.POST or None,
        enrollments=enrollments,
        earliest=earliest_drop(settings, today),
        month_start=settings.drop_on_month_start,
        initial={"enrollment": request.GET.get("enrollment")},
    )
    if request.method == "POST" and form.is_valid():
        chosen = next(e for e in enrollments if e.pk == form.cleaned_data["enrollment"])
        try:
            made = enrollment.request_create(
                kind="drop",
                student=chosen.student,
                enrollment=chosen,
                effective_date=form.cleaned_data["effective_date"],
                message=form.cleaned_data["message"],
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            return _sent(request, made)
    return render_portal(
        request,
        "portal/family/request_form.html",
        {"form": form, "title": "Ask to drop a class", "empty": not enrollments},
        status=400 if form.errors else 200,
    )


@family_view
def request_transfer(request):
    today, now = _today(), clock.now()
    enrollments = _enrollments(request.family)
    targets = selectors.class_cards(FinderFilter(), now=now, use_cache=True)
    form = TransferRequestForm(
        request.POST or None,
        enrollments=enrollments,
        targets=targets,
        earliest=today + timedelta(days=request.portal.drop_notice_days),
        initial={"enrollment": request.GET.get("enrollment")},
    )
    if request.method == "POST" and form.is_valid():
        chosen = next(e for e in enrollments if e.pk == form.cleaned_data["enrollment"])
        card = next(c for c in targets if c.id == form.cleaned_data["target"])
        reasons = card.refusals(Who.of_student(chosen.student))
        if card.id == chosen.klass_id:
            form.add_error("target", "Choose a different class.")
        elif reasons:
            form.add_error("target", " ".join(reasons))
        else:
            try:
                made = enrollment.request_create(
                    kind="transfer",
                    student=chosen.student,
                    enrollment=chosen,
                    target_class=Class.objects.get(pk=card.id),
                    effective_date=form.cleaned_data["effective_date"],
                    message=form.cleaned_data["message"],
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            else:
                return _sent(request, made)
    return render_portal(
        request,
        "portal/family/request_form.html",
        {"form": form, "title": "Ask to move to another class", "empty": not enrollments},
        status=400 if form.errors else 200,
    )


def _visit_meetings(students, *, kind: str, now, today) -> list[Meeting]:
    """Meetings of portal classes in the next four weeks that at least one of
    ``students`` may visit (for a makeup: before their token expires)."""
    cards = {c.id: c for c in selectors.class_cards(FinderFilter(), now=now, use_cache=True)}
    horizon = today + timedelta(days=28)
    if kind == "makeup":
        tokens = MakeupToken.objects.filter(
            student__in=students, status=MakeupToken.Status.AVAILABLE, expires_on__gte=today
        )
        latest = max((t.expires_on for t in tokens), default=None)
        if latest is None:
            return []
        horizon = min(horizon, latest)
    meetings = (
        Meeting.objects.filter(klass_id__in=list(cards), starts_at__gt=now, date__lte=horizon)
        .select_related("klass")
        .order_by("starts_at")[:300]
    )
    whos = [Who.of_student(s) for s in students]
    return [m for m in meetings if any(not cards[m.klass_id].refusals(w) for w in whos)]


def _visit_request(request, kind: str):
    today, now = _today(), clock.now()
    students = list(
        Student.objects.filter(family=request.family, is_active=True).select_related("level")
    )
    if kind == "makeup":
        with_tokens = set(
            MakeupToken.objects.filter(
                student__in=students, status=MakeupToken.Status.AVAILABLE, expires_on__gte=today
            ).values_list("student_id", flat=True)
        )
        students = [s for s in students if s.pk in with_tokens]
    meetings = _visit_meetings(students, kind=kind, now=now, today=today) if students else []
    form = VisitRequestForm(request.POST or None, students=students, meetings=meetings)
    if request.method == "POST" and form.is_valid():
        student = next(s for s in students if s.pk == form.cleaned_data["student"])
        meeting = next(m for m in meetings if m.pk == form.cleaned_data["meeting"])
        card = selectors.class_card(meeting.klass_id, now=now)
        reasons = card.refusals(Who.of_student(student)) if card else ["That class is not offered."]
        if reasons:
            form.add_error("meeting", " ".join(reasons))
        else:
            try:
                made = enrollment.request_create(
                    kind=kind,
                    student=student,
                    meeting=meeting,
                    message=form.cleaned_data["message"],
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            else:
                return _sent(request, made)
    title = "Book a makeup class" if kind == "makeup" else "Ask for a trial class"
    empty = not students or not meetings
    return render_portal(
        request,
        "portal/family/request_form.html",
        {"form": form, "title": title, "empty": empty, "kind": kind},
        status=400 if form.errors else 200,
    )


@family_view
def request_trial(request):
    return _visit_request(request, "trial")


@family_view
def request_makeup(request):
    return _visit_request(request, "makeup")
