from django.urls import path

from classbook.platform import views

app_name = "platform"

urlpatterns = [
    path("", views.account_list, name="accounts"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/enter/", views.support_visit_start, name="support_visit_start"),
]
