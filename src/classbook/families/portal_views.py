"""The guardian's side of the portal log-in: choose a password from the emailed link,
log in, log out, and a small page with the family's students.

Guardians are ``User`` rows of kind ``guardian`` in the account being served; the
account's ``AccountUserBackend`` only finds logins of that account, so a session from
another business is simply not logged in here.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_POST

from classbook.accounts.models import User
from classbook.audit.context import acting_as, actor_for_user
from classbook.core.errors import ValidationFailed
from classbook.core.forms import LoginForm, add_service_errors
from classbook.core.urls import account_reverse
from classbook.families import selectors, services
from classbook.staff.access import SESSION_ACCOUNT_KEY

BACKEND = "classbook.accounts.auth.AccountUserBackend"


def guardian_view(view):
    """Pages for a logged-in guardian of this account; anyone else goes to the log-in."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (
            user.is_authenticated
            and user.kind == User.Kind.GUARDIAN
            and user.account_id == request.account.pk
        ):
            return redirect_to_login(request.get_full_path(), account_reverse("portal:login"))
        guardian = selectors.guardian_for_user(user)
        if guardian is None:
            logout(request)
            messages.info(request, "This portal login is no longer in use; ask the business.")
            return redirect(account_reverse("portal:login"))
        request.guardian = guardian
        with acting_as(actor_for_user(user, request=request)):
            return view(request, *args, **kwargs)

    return wrapper


def _safe_next(request, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return account_reverse("portal:my_family")


def login_view(request):
    form = LoginForm(request.POST or None)
    form.fields["username"].label = "Email"
    target = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            kind=User.Kind.GUARDIAN,
        )
        if user is None or selectors.guardian_for_user(user) is None:
            form.add_error(None, "That email and password do not match a parent portal login here.")
        else:
            login(request, user, backend=BACKEND)
            request.session[SESSION_ACCOUNT_KEY] = request.account.pk
            with acting_as(actor_for_user(user, request=request)):
                services.guardian_login_record(user=user)
            return redirect(_safe_next(request, target))
    return render(
        request,
        "families/portal/login.html",
        {"form": form, "next": target},
        status=400 if form.errors else 200,
    )


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect(account_reverse("portal:login"))


def password_set(request, uidb64: str, token: str):
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        user_id = None
    user = User.objects.filter(pk=user_id, kind=User.Kind.GUARDIAN, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "families/portal/password_link_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with acting_as(actor_for_user(user, request=request)):
                services.guardian_password_set(
                    user=user, new_password=form.cleaned_data["new_password1"]
                )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Your password is set. Log in with your email and it.")
            return redirect(account_reverse("portal:login"))
    return render(
        request,
        "families/portal/password_set.html",
        {"form": form, "person": user},
        status=400 if form.errors else 200,
    )


@guardian_view
def my_family(request):
    family = request.guardian.family
    return render(
        request,
        "families/portal/my_family.html",
        {
            "guardian": request.guardian,
            "family": family,
            "students": selectors.portal_family_students(family),
        },
    )
