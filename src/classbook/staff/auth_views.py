"""Staff log-in, two-factor, log-out and passwords (pages under /<account>/office/)."""

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect, render
from django.utils.encoding import force_bytes, force_str
from django.utils.http import (
    url_has_allowed_host_and_scheme,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from classbook.accounts.models import User
from classbook.audit.context import acting_as, actor_for_user
from classbook.core.errors import ValidationFailed
from classbook.core.forms import LoginForm, add_service_errors
from classbook.core.urls import account_reverse
from classbook.office.chrome import remember_account
from classbook.staff import services
from classbook.staff.access import ANY_STAFF, PUBLIC, SESSION_ACCOUNT_KEY, office_view
from classbook.staff.forms import PasswordResetRequestForm, TokenForm
from classbook.staff.security import lift_lockout

PENDING_2FA_KEY = "classbook_pending_2fa"
BACKEND = "classbook.accounts.auth.AccountUserBackend"


def _safe_next(request, target: str) -> str:
    if url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return account_reverse("office:dashboard")


def _complete_login(request, user: User, device, target: str):
    login(request, user, backend=BACKEND)
    if device is not None:
        otp_login(request, device)
    request.session[SESSION_ACCOUNT_KEY] = request.account.pk
    with acting_as(actor_for_user(user, request=request)):
        services.staff_login_record(user=user)
    response = redirect(_safe_next(request, target))
    remember_account(request, response)
    return response


@office_view(PUBLIC)
def login_view(request):
    form = LoginForm(request.POST or None)
    target = request.POST.get("next") or request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            kind=User.Kind.STAFF,
        )
        if user is None:
            form.add_error(
                None,
                "That username and password do not match an active staff login of this business.",
            )
        else:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                return _complete_login(request, user, None, target)
            request.session[PENDING_2FA_KEY] = {"user": user.pk, "next": target}
            return redirect(account_reverse("office:login_verify"))
    return render(
        request,
        "staff/login.html",
        {"form": form, "next": target},
        status=400 if form.errors else 200,
    )


@office_view(PUBLIC)
def login_verify(request):
    pending = request.session.get(PENDING_2FA_KEY)
    user = User.objects.filter(
        pk=(pending or {}).get("user"), kind=User.Kind.STAFF, is_active=True
    ).first()
    if user is None:
        return redirect(account_reverse("office:login"))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None and device.verify_token(form.cleaned_data["code"]):
            request.session.pop(PENDING_2FA_KEY, None)
            return _complete_login(request, user, device, pending.get("next", ""))
        form.add_error(
            "code",
            "That code is not right or has expired. Enter the current "
            "6-digit code from your authenticator app.",
        )
    return render(
        request, "staff/login_verify.html", {"form": form}, status=400 if form.errors else 200
    )


@office_view(PUBLIC)
@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, "You are logged out.")
    return redirect(account_reverse("office:login"))


@office_view(ANY_STAFF)
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_password_change(
                user=request.user, new_password=form.cleaned_data["new_password1"]
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Your password was changed.")
            return redirect(account_reverse("office:dashboard"))
    return render(
        request, "staff/password_change.html", {"form": form}, status=400 if form.errors else 200
    )


@office_view(PUBLIC)
def password_reset_request(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login_name = form.cleaned_data["login"]
        user = (
            User.objects.filter(kind=User.Kind.STAFF, is_active=True)
            .filter(username__iexact=login_name)
            .first()
            or User.objects.filter(
                kind=User.Kind.STAFF, is_active=True, email__iexact=login_name
            ).first()
        )
        if user is not None and user.email:
            services.staff_send_password_link(
                user=user, link=password_link(request, user), invitation=False
            )
        messages.info(
            request,
            "If that is a staff login here with an email address, we "
            "have sent it a link to choose a new password.",
        )
        return redirect(account_reverse("office:login"))
    return render(
        request,
        "staff/password_reset_request.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def password_link(request, user: User) -> str:
    path = account_reverse(
        "office:password_reset_confirm",
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )
    return request.build_absolute_uri(path)


@office_view(PUBLIC)
def password_reset_confirm(request, uidb64: str, token: str):
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        user_id = None
    user = User.objects.filter(pk=user_id, kind=User.Kind.STAFF, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return render(request, "staff/password_link_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with acting_as(actor_for_user(user, request=request)):
                services.staff_password_set_from_link(
                    user=user, new_password=form.cleaned_data["new_password1"]
                )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            lift_lockout(user)
            messages.success(request, "Your password is set. Log in with it now.")
            return redirect(account_reverse("office:login"))
    return render(
        request,
        "staff/password_reset_confirm.html",
        {"form": form, "person": user},
        status=400 if form.errors else 200,
    )
