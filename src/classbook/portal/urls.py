from django.urls import include, path

from classbook.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("classbook.families.portal_urls")),  # guardian log-in
]
