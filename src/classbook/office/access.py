"""Who may open office pages."""

import functools

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect

from classbook.accounts.models import User
from classbook.core.urls import account_reverse

SESSION_ACCOUNT_KEY = "classbook_account_id"


def staff_required(view):
    """Staff of the account being served; anyone logged in elsewhere gets a 404.

    A session that belongs to another account's login is answered with 404 so that one
    business's staff cannot even learn which pages another business has.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        account = request.account
        if user.is_authenticated and user.kind == User.Kind.STAFF and user.account_id == account.pk:
            if user.must_change_password and not getattr(view, "allows_password_change", False):
                return redirect(account_reverse("office:password_change"))
            return view(request, *args, **kwargs)
        if (
            SESSION_KEY in request.session
            and request.session.get(SESSION_ACCOUNT_KEY) != account.pk
        ):
            raise Http404("Not found")
        return redirect_to_login(request.get_full_path(), account_reverse("office:login"))

    return wrapper
