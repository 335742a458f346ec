from django.urls import path

from classbook.ledger import views

app_name = "ledger"

family = "families/<int:family_id>/"
entry = family + "entries/<int:entry_id>/"

urlpatterns = [
    path(family, views.family_ledger, name="family"),
    path(family + "charges/new/", views.charge_new, name="charge_new"),
    path(family + "credits/new/", views.credit_new, name="credit_new"),
    path(family + "payments/new/", views.payment_new, name="payment_new"),
    path(family + "credit/apply/", views.credit_apply, name="credit_apply"),
    path(family + "statement/", views.statement, name="statement"),
    path(entry + "reverse/", views.entry_reverse, name="reverse"),
    path(entry + "refund/", views.refund_new, name="refund"),
    path(entry + "receipt/", views.receipt, name="receipt"),
    path(entry + "receipt/email/", views.receipt_email, name="receipt_email"),
    path("statements/", views.statements, name="statements"),
    path("statements/<int:run_id>/", views.statement_run, name="statement_run"),
]
