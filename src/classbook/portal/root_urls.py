"""``/<account>/`` itself: families land on the portal; old ``/<account>/parent/...``
addresses move to it for good (301); the office's portal settings live under
``/<account>/office/portal/`` (kept here so the portal app owns all its addresses)."""

from django.urls import include, path

from classbook.portal import views

urlpatterns = [
    path("", views.account_root, name="account_root"),
    path("office/portal/", include("classbook.portal.office_urls")),
    path("parent/", views.old_address, name="old_portal"),
    path("parent/<path:rest>", views.old_address, name="old_portal_path"),
]
