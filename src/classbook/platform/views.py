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
from classbook.core.forms import LoginForm
from classbook.platform.access import operator_required


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
