"""Log-in throttling (django-axes) keyed per account, so two businesses' "owner" logins
do not share a failure counter."""

from django.shortcuts import render

from classbook.core.tenancy import current_account


def axes_key(account, username: str) -> str:
    return f"{account.slug if account else 'platform'}:{username.strip().lower()}"


def axes_username(request, credentials) -> str:
    """One failure counter per login, whether it is typed as username or as email."""
    from django.db.models import Q

    from classbook.accounts.models import User

    account = current_account()
    typed = ((credentials or {}).get("username") or "").strip()
    user = (
        User.objects.filter(Q(username__iexact=typed) | Q(email__iexact=typed))
        .order_by("pk")
        .first()
        if typed
        else None
    )
    return axes_key(account, user.username if user else typed)


def lift_lockout(user) -> None:
    """A password chosen from an emailed link proves who it is: forget the failures."""
    from axes.utils import reset

    reset(username=axes_key(current_account(), user.username))


def lockout_response(request, credentials, *args, **kwargs):
    from django.conf import settings

    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(request, "staff/locked_out.html", {"minutes": minutes}, status=429)
