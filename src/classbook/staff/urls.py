from django.urls import path

from classbook.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("invite/", views.staff_invite, name="invite"),
    path("<int:user_id>/", views.staff_detail, name="detail"),
    path("<int:user_id>/edit/", views.staff_edit, name="edit"),
    path("<int:user_id>/deactivate/", views.staff_set_active, {"active": False}, name="deactivate"),
    path("<int:user_id>/reactivate/", views.staff_set_active, {"active": True}, name="reactivate"),
    path("<int:user_id>/password-link/", views.staff_send_link, name="send_link"),
    path(
        "<int:user_id>/two-factor/remove/", views.staff_remove_two_factor, name="remove_two_factor"
    ),
    path("groups/", views.group_list, name="groups"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/delete/", views.group_delete, name="group_delete"),
    path("security/", views.security_policy, name="security"),
    path("two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("support/end/", views.support_visit_end, name="support_visit_end"),
]
