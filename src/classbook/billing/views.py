"""Billing pages: runs with preview and progress, tuition rules, settings."""

from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from classbook.billing import selectors, services
from classbook.billing.forms import AssignForm, BillingSettingsForm, PeriodForm, TuitionRuleForm
from classbook.billing.models import BillingRun, BillingSettings, TuitionRule
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.staff import permissions as perms
from classbook.staff.access import office_view

PAGE_SIZE = 25


def _period(raw: str) -> date | None:
    try:
        return date.fromisoformat(f"{raw}-01")
    except ValueError:
        return None


@office_view(perms.RUN_BILLING)
def runs(request):
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.billing_run_start(period=form.cleaned_data["period"], by=request.user)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            return redirect(account_reverse("billing:run", billing_run_id=run.pk))
    return render(
        request,
        "billing/runs.html",
        {
            "form": form,
            "runs": BillingRun.objects.select_related("created_by")[:24],
            "unpriced": selectors.unpriced_class_count(),
        },
        status=400 if form.errors else 200,
    )


@office_view(perms.RUN_BILLING)
def preview(request):
    period = _period(request.GET.get("period", ""))
    if period is None:
        messages.error(request, "Choose a month to preview.")
        return redirect(account_reverse("billing:runs"))
    search = request.GET.get("q", "").strip()
    result = selectors.billing_preview(period, search=search)
    page = Paginator(result.rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "billing/preview.html",
        {"period": period, "preview": result, "page": page, "search": search},
    )


@office_view(perms.RUN_BILLING)
def run_detail(request, billing_run_id: int):
    run = get_object_or_404(BillingRun, pk=billing_run_id)
    template = "billing/_run_progress.html" if request.htmx else "billing/run.html"
    return render(request, template, {"run": run})


@office_view(perms.RUN_BILLING)
@require_POST
def run_resume(request, billing_run_id: int):
    run = get_object_or_404(BillingRun, pk=billing_run_id)
    try:
        services.billing_run_resume(run=run)
    except ValidationFailed as error:
        messages.error(request, str(error))
    return redirect(account_reverse("billing:run", billing_run_id=run.pk))


@office_view(perms.RUN_BILLING)
def rules(request):
    assign = AssignForm(request.POST or None)
    if request.method == "POST" and assign.is_valid():
        data = assign.cleaned_data
        services.tuition_assign(rule=data["rule"], program=data["program"], klass=data["klass"])
        messages.success(request, "Tuition assignment saved.")
        return redirect(account_reverse("billing:rules"))
    return render(
        request,
        "billing/rules.html",
        {
            "rules": TuitionRule.objects.all(),
            "assign": assign,
            "assignments": selectors.assignments(),
            "unpriced": selectors.unpriced_class_count(),
        },
        status=400 if assign.errors else 200,
    )


@office_view(perms.RUN_BILLING)
def rule_create(request):
    return _rule_form(request, None)


@office_view(perms.RUN_BILLING)
def rule_edit(request, rule_id: int):
    return _rule_form(request, get_object_or_404(TuitionRule, pk=rule_id))


def _rule_form(request, rule: TuitionRule | None):
    initial = None
    if rule is not None:
        initial = {
            "name": rule.name,
            "kind": rule.kind,
            "amount": f"{rule.amount_cents / 100:.2f}" if rule.amount_cents else "",
            "hour_table": "\n".join(f"{m / 60:g} = {c / 100:.2f}" for m, c in rule.hour_table),
        }
    form = TuitionRuleForm(request.POST or None, initial=initial, account=request.account)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.tuition_rule_save(
                rule=rule,
                name=data["name"],
                kind=data["kind"],
                amount_cents=data.get("amount") or 0,
                hour_table=data.get("table_rows", []),
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Tuition rule “{data['name']}” saved.")
            return redirect(account_reverse("billing:rules"))
    return render(
        request,
        "billing/rule_form.html",
        {"form": form, "rule": rule},
        status=400 if form.errors else 200,
    )


@office_view(perms.RUN_BILLING)
def billing_settings(request):
    current = BillingSettings.objects.first() or BillingSettings()
    form = BillingSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.billing_settings_update(
                **{name: form.cleaned_data[name] for name in form.cleaned_data}
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Billing settings saved.")
            return redirect(account_reverse("billing:settings"))
    return render(
        request, "billing/settings.html", {"form": form}, status=400 if form.errors else 200
    )
