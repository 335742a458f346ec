from django.shortcuts import redirect, render

from classbook.accounts.selectors import location_list
from classbook.core.urls import account_reverse


def home(request):
    return render(
        request, "portal/home.html", {"locations": location_list().filter(is_active=True)}
    )


def account_root(request):
    return redirect(account_reverse("portal:home"))
