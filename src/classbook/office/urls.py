from django.urls import path

from classbook.office import views
from classbook.staff import auth_views

app_name = "office"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", auth_views.login_view, name="login"),
    path("login/verify/", auth_views.login_verify, name="login_verify"),
    path("logout/", auth_views.logout_view, name="logout"),
    path("password/", auth_views.password_change, name="password_change"),
    path("password/reset/", auth_views.password_reset_request, name="password_reset"),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        auth_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("location/switch/", views.switch_location, name="switch_location"),
    path("settings/locations/", views.location_list, name="location_list"),
    path("settings/locations/new/", views.location_create, name="location_create"),
    path("settings/locations/<int:location_id>/", views.location_detail, name="location_detail"),
    path("settings/locations/<int:location_id>/edit/", views.location_edit, name="location_edit"),
]
