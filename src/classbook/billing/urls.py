from django.urls import path

from classbook.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.runs, name="runs"),
    path("preview/", views.preview, name="preview"),
    path("runs/<int:billing_run_id>/", views.run_detail, name="run"),
    path("runs/<int:billing_run_id>/resume/", views.run_resume, name="run_resume"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/edit/", views.rule_edit, name="rule_edit"),
    path("settings/", views.billing_settings, name="settings"),
]
