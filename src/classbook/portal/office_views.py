"""The office's portal pages: settings (mode, checkout, branding, drop policy) and the
checkouts that need attention (paid, but a seat was lost)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.families.selectors import open_policy_versions
from classbook.portal import selectors, services
from classbook.portal.forms import PortalSettingsForm
from classbook.portal.models import Checkout
from classbook.staff import permissions as perms
from classbook.staff.access import office_view


@office_view(perms.MANAGE_PORTAL)
def settings(request):
    current = selectors.portal_settings()
    form = PortalSettingsForm(request.POST or None, request.FILES or None, instance=current)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("logo")
            try:
                services.portal_settings_update(
                    mode=data["mode"],
                    allow_pay_later=data["allow_pay_later"],
                    welcome_text=data["welcome_text"],
                    primary_color=data["primary_color"],
                    accent_color=data["accent_color"],
                    logo_url=data["logo_url"],
                    logo=services.LogoUpload(upload.read()) if upload else None,
                    remove_logo=data["remove_logo"],
                    drop_notice_days=data["drop_notice_days"],
                    drop_on_month_start=data["drop_on_month_start"],
                )
            except ValidationFailed as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Portal settings saved.")
                return redirect(account_reverse("portal_office:settings"))
    return render(
        request,
        "portal/office/settings.html",
        {
            "form": form,
            "current": current,
            "policies": open_policy_versions(),
            "review": list(selectors.review_queue()[:50]),
        },
        status=status,
    )


@office_view(perms.MANAGE_PORTAL)
@require_POST
def checkout_review(request, checkout_id: int):
    checkout = get_object_or_404(Checkout, pk=checkout_id)
    try:
        services.checkout_review(checkout=checkout)
    except ValidationFailed as error:
        messages.info(request, str(error))
    else:
        messages.success(request, f"Marked as dealt with: {checkout.family}.")
    return redirect(account_reverse("portal_office:settings"))
