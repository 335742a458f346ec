from django.urls import path

from classbook.families import views

app_name = "families"

family = "<int:family_id>/"
guardian = family + "guardians/<int:guardian_id>/"
student = family + "students/<int:student_id>/"
contact = family + "contacts/<int:contact_id>/"

urlpatterns = [
    path("", views.family_list, name="list"),
    path("new/", views.family_create, name="create"),
    path(family, views.family_detail, name="detail"),
    path(family + "edit/", views.family_edit, name="edit"),
    path(family + "notes/", views.note_add, name="note_add"),
    path(family + "tags/", views.tags_set, name="tags"),
    path(family + "guardians/new/", views.guardian_add, name="guardian_add"),
    path(guardian + "edit/", views.guardian_edit, name="guardian_edit"),
    path(guardian + "primary/", views.guardian_make_primary, name="guardian_primary"),
    path(
        guardian + "remove/", views.guardian_set_active, {"active": False}, name="guardian_remove"
    ),
    path(
        guardian + "restore/", views.guardian_set_active, {"active": True}, name="guardian_restore"
    ),
    path(guardian + "invite/", views.guardian_invite, name="guardian_invite"),
    path(family + "students/new/", views.student_add, name="student_add"),
    path(student + "edit/", views.student_edit, name="student_edit"),
    path(student + "remove/", views.student_set_active, {"active": False}, name="student_remove"),
    path(student + "restore/", views.student_set_active, {"active": True}, name="student_restore"),
    path(family + "contacts/new/", views.contact_add, name="contact_add"),
    path(contact + "edit/", views.contact_edit, name="contact_edit"),
    path(contact + "remove/", views.contact_remove, name="contact_remove"),
    path(family + "policies/accept/", views.acceptance_add, name="acceptance_add"),
    path(family + "merge/", views.merge_start, name="merge"),
    path(family + "merge/<int:other_id>/", views.merge_confirm, name="merge_confirm"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:policy_id>/revise/", views.policy_revise, name="policy_revise"),
]
