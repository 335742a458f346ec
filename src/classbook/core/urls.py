"""Reversing URLs that live under ``/<account_slug>/``."""

from classbook.core.tenancy import require_account


def account_reverse(name: str, *, account=None, **kwargs) -> str:
    from django.urls import reverse

    account = account or require_account()
    return reverse(name, kwargs={"account_slug": account.slug, **kwargs})
