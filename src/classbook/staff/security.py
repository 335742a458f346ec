"""Log-in throttling (django-axes) keyed per account, so two businesses' "owner" logins
do not share a failure counter."""

from django.shortcuts import render

from classbook.core.tenancy import current_account


def axes_username(request, credentials) -> str:
    account = current_account()
    username = (credentials or {}).get("username") or ""
    return f"{account.slug if account else 'platform'}:{username.strip().lower()}"


def lockout_response(request, credentials, *args, **kwargs):
    from django.conf import settings

    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(request, "staff/locked_out.html", {"minutes": minutes}, status=429)
