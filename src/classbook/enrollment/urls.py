from django.urls import path

from classbook.enrollment import views

app_name = "enrollment"

klass = "classes/<int:class_id>/"
student = "students/<int:student_id>/"
entry = "waitlist/<int:waitlist_entry_id>/"
enrollment = "enrollments/<int:enrollment_id>/"

urlpatterns = [
    path(klass + "enroll/", views.enroll_class, name="enroll_class"),
    path(klass + "roster/", views.class_roster, name="roster"),
    path(klass + "waitlist/", views.class_waitlist, name="waitlist"),
    path(klass + "waitlist/offer/", views.waitlist_offer, name="waitlist_offer"),
    path("enroll/preview/", views.enroll_preview, name="preview"),
    path("camps/<int:camp_id>/", views.camp_waitlist, name="camp_waitlist"),
    path("camp-days/<int:camp_day_id>/offer/", views.camp_day_offer, name="camp_day_offer"),
    path(entry + "claim/", views.entry_claim, name="entry_claim"),
    path(entry + "decline/", views.entry_decline, name="entry_decline"),
    path(entry + "remove/", views.entry_remove, name="entry_remove"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:request_id>/", views.request_detail, name="request_detail"),
    path(student, views.student_detail, name="student"),
    path(student + "enroll/", views.enroll_student, name="enroll_student"),
    path(student + "camps/", views.camp_book, name="camp_book"),
    path(student + "trial/", views.trial_book, name="trial"),
    path(student + "makeups/new/", views.makeup_issue, name="makeup_issue"),
    path("makeups/<int:makeup_id>/book/", views.makeup_book, name="makeup_book"),
    path(enrollment + "drop/", views.enrollment_drop, name="drop"),
    path(enrollment + "transfer/", views.enrollment_transfer, name="transfer"),
    path("visits/<int:visit_id>/cancel/", views.visit_cancel, name="visit_cancel"),
    path("camp-bookings/<int:booking_id>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("settings/", views.enrollment_settings, name="settings"),
]
