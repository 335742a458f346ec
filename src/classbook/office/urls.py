from django.urls import path

from classbook.office import views

app_name = "office"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("location/switch/", views.switch_location, name="switch_location"),
    path("settings/locations/", views.location_list, name="location_list"),
    path("settings/locations/new/", views.location_create, name="location_create"),
    path("settings/locations/<int:location_id>/", views.location_detail, name="location_detail"),
    path("settings/locations/<int:location_id>/edit/", views.location_edit, name="location_edit"),
]
