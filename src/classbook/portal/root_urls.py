"""``/<account>/`` itself: families land on the portal."""

from django.urls import path

from classbook.portal import views

urlpatterns = [
    path("", views.account_root, name="account_root"),
]
