"""The platform console: the operator's view over all accounts."""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from classbook.accounts import selectors
from classbook.accounts.models import Account, User
from classbook.core.errors import ValidationFailed
from classbook.core.forms import LoginForm, add_service_errors
from classbook.core.tenancy import activate_account
from classbook.platform.access import operator_required, platform_public
from classbook.staff.access import remember_support_visit
from classbook.staff.forms import SupportVisitForm
from classbook.staff.services import support_visit_start as support_visit_start_service


@platform_public
def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            kind=User.Kind.PLATFORM,
        )
        if user is None:
            form.add_error(None, "That username and password do not match an operator login.")
        else:
            login(request, user)
            target = request.POST.get("next", "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
                target = reverse("platform:accounts")
            return redirect(target)
    return render(
        request,
        "platform/login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )


@platform_public
@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect("platform:login")


@operator_required
def account_list(request):
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in Account.Status.values:
        status = ""
    page = Paginator(selectors.platform_account_list(search=search, status=status), 25)
    return render(
        request,
        "platform/account_list.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "search": search,
            "status": status,
            "statuses": Account.Status.choices,
        },
    )


@operator_required
def account_detail(request, account_id: int):
    account = get_object_or_404(Account, pk=account_id)
    return render(
        request,
        "platform/account_detail.html",
        {"target": account, "summary": selectors.platform_account_summary(account)},
    )


@operator_required
def support_visit_start(request, account_id: int):
    """Enter an account's office, with a reason the owner will read in the audit log."""
    target = get_object_or_404(Account, pk=account_id)
    if not target.is_open:
        messages.error(
            request,
            f"{target.name} is {target.get_status_display().lower()}; "
            "its office cannot be entered.",
        )
        return redirect("platform:account_detail", account_id=target.pk)
    with activate_account(target):
        staff = User.objects.filter(kind=User.Kind.STAFF, is_active=True)
        owner_group = staff.filter(group_memberships__group__is_owner=True).first()
        form = SupportVisitForm(
            request.POST or None, staff=staff, initial={"acting_as": owner_group}
        )
        if request.method == "POST" and form.is_valid():
            try:
                visit = support_visit_start_service(
                    operator=request.user,
                    acting_as=form.cleaned_data["acting_as"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            else:
                remember_support_visit(request, visit)
                return redirect("office:dashboard", account_slug=target.slug)
        return render(
            request,
            "platform/support_visit_start.html",
            {"target": target, "form": form},
            status=400 if form.errors else 200,
        )
