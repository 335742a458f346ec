from django.urls import path

from classbook.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.class_list, name="class_list"),
    path("classes/new/", views.class_create, name="class_create"),
    path("classes/<int:class_id>/", views.class_detail, name="class_detail"),
    path("classes/<int:class_id>/edit/", views.class_edit, name="class_edit"),
    path("schedule/", views.schedule, name="schedule"),
    path("setup/", views.setup, name="setup"),
    path("programs/new/", views.program_create, name="program_create"),
    path("programs/<int:program_id>/edit/", views.program_edit, name="program_edit"),
    path("levels/new/", views.level_create, name="level_create"),
    path("levels/<int:level_id>/edit/", views.level_edit, name="level_edit"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/<int:room_id>/edit/", views.room_edit, name="room_edit"),
    path("sessions/", views.term_list, name="term_list"),
    path("sessions/new/", views.term_create, name="term_create"),
    path("sessions/<int:term_id>/", views.term_detail, name="term_detail"),
    path("sessions/<int:term_id>/edit/", views.term_edit, name="term_edit"),
    path("sessions/<int:term_id>/copy/", views.term_copy, name="term_copy"),
    path("closures/", views.closure_list, name="closure_list"),
    path("closures/new/", views.closure_create, name="closure_create"),
    path("closures/<int:closure_id>/edit/", views.closure_edit, name="closure_edit"),
    path("closures/<int:closure_id>/delete/", views.closure_delete_view, name="closure_delete"),
    path("camps/", views.camp_list, name="camp_list"),
    path("camps/calendar/", views.camp_calendar, name="camp_calendar"),
    path("camps/new/", views.camp_create, name="camp_create"),
    path("camps/<int:camp_id>/", views.camp_detail, name="camp_detail"),
    path("camps/<int:camp_id>/edit/", views.camp_edit, name="camp_edit"),
]
