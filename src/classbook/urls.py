from django.urls import include, path

from classbook.core import views as core_views
from classbook.payments import webhooks as payment_webhooks

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("platform/", include("classbook.platform.urls")),
    path("<slug:account_slug>/office/staff/", include("classbook.staff.urls")),
    path("<slug:account_slug>/office/audit/", include("classbook.audit.urls")),
    path("<slug:account_slug>/office/ledger/", include("classbook.ledger.urls")),
    path("<slug:account_slug>/office/billing/", include("classbook.billing.urls")),
    path("<slug:account_slug>/office/families/", include("classbook.families.urls")),
    path("<slug:account_slug>/office/catalog/", include("classbook.catalog.urls")),
    path("<slug:account_slug>/office/enrollment/", include("classbook.enrollment.urls")),
    path("<slug:account_slug>/office/payments/", include("classbook.payments.urls")),
    path("<slug:account_slug>/office/", include("classbook.office.urls")),
    path(
        "<slug:account_slug>/hooks/gateway/",
        payment_webhooks.gateway_webhook,
        name="gateway_webhook",
    ),
    path("<slug:account_slug>/portal/", include("classbook.portal.urls")),
    path("<slug:account_slug>/", include("classbook.portal.root_urls")),
]
