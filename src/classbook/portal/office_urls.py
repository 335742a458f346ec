"""The office's portal pages, under ``/<account>/office/portal/`` (namespace
"portal_office")."""

from django.urls import path

from classbook.portal import office_views

app_name = "portal_office"

urlpatterns = [
    path("", office_views.settings, name="settings"),
    path(
        "checkouts/<int:checkout_id>/reviewed/",
        office_views.checkout_review,
        name="checkout_review",
    ),
]
