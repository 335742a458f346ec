from django.urls import path

from classbook.payments import views

app_name = "payments"

family = "families/<int:family_id>/"
card = family + "cards/<int:card_id>/"
attempt = family + "attempts/<int:attempt_id>/"

urlpatterns = [
    path("settings/", views.gateway_settings_edit, name="settings"),
    path("settings/sandbox-webhook/", views.sandbox_webhook, name="sandbox_webhook"),
    path(family + "card/", views.card_payment, name="take"),
    path(family + "card/setup/", views.card_setup, name="card_setup"),
    path(family + "cards/new/", views.card_add, name="card_add"),
    path(card + "remove/", views.card_remove, name="card_remove"),
    path(card + "autopay/", views.card_autopay, name="card_autopay"),
    path(attempt, views.attempt_detail, name="attempt"),
    path(attempt + "check/", views.attempt_check, name="attempt_check"),
    path(family + "entries/<int:entry_id>/refund/", views.gateway_refund, name="refund"),
    path("reconciliation/", views.reconciliation, name="reconciliation"),
    path("reconciliation/run/", views.reconcile_now, name="reconcile_now"),
    path(
        "reconciliation/issues/<int:reconciliation_issue_id>/review/",
        views.issue_review,
        name="issue_review",
    ),
    path("deposits/", views.deposits, name="deposits"),
    path("deposits/csv/", views.deposits_csv, name="deposits_csv"),
]
