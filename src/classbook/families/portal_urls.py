"""Guardian log-in pages, included by ``classbook.portal.urls`` (namespace "portal")."""

from django.urls import path

from classbook.families import portal_views

urlpatterns = [
    path("login/", portal_views.login_view, name="login"),
    path("logout/", portal_views.logout_view, name="logout"),
    path("password/<str:uidb64>/<str:token>/", portal_views.password_set, name="password_set"),
    path("family/", portal_views.my_family, name="my_family"),
]
