from django.urls import include, path

from classbook.portal import family_views as family
from classbook.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("logo/", views.logo, name="logo"),
    # finding a class
    path("find/", views.find, name="find"),
    path("classes/", views.class_list, name="classes"),
    path("classes/<int:class_id>/", views.class_detail, name="class"),
    path("classes/<int:class_id>/add/", views.cart_add, name="cart_add"),
    path("classes/<int:class_id>/waitlist/", views.waitlist_join, name="waitlist_join"),
    path("calendar/", views.calendar, name="calendar"),
    path("camps/", views.camps, name="camps"),
    path("camps/<int:camp_id>/", views.camp_detail, name="camp"),
    path("camps/<int:camp_id>/add/", views.camp_add, name="camp_add"),
    # cart and checkout
    path("cart/", views.cart, name="cart"),
    path("cart/status/", views.cart_status, name="cart_status"),
    path("cart/<int:hold_id>/remove/", views.cart_remove, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/sign-up/", views.checkout_signup, name="checkout_signup"),
    path("checkout/assign/", views.checkout_assign, name="checkout_assign"),
    path("checkout/card/", views.checkout_card_setup, name="checkout_card_setup"),
    path("checkout/pay/", views.checkout_pay, name="checkout_pay"),
    path("checkout/<int:checkout_id>/", views.checkout_done, name="checkout_done"),
    path("calendar/<str:token>.ics", family.ical_feed, name="ical"),
    # the family's pages (the dashboard replaces the families app's small page)
    path("family/", family.dashboard, name="my_family"),
    path("family/schedule/", family.schedule, name="schedule"),
    path("family/account/", family.ledger, name="ledger"),
    path("family/account/pay/", family.pay, name="pay"),
    path("family/statements/<int:year>/<int:month>/", family.statement, name="statement"),
    path("family/receipts/<int:entry_id>/", family.receipt, name="receipt"),
    path("family/cards/", family.cards, name="cards"),
    path("family/cards/setup/", family.card_setup, name="card_setup"),
    path("family/cards/<int:card_id>/remove/", family.card_remove, name="card_remove"),
    path("family/guardians/", family.guardians, name="guardians"),
    path("family/students/", family.students, name="students"),
    path("family/students/<int:student_id>/", family.student_edit, name="student_edit"),
    path("family/offers/<int:entry_id>/claim/", family.offer_claim, name="offer_claim"),
    path("family/offers/<int:entry_id>/decline/", family.offer_decline, name="offer_decline"),
    path("family/requests/", family.requests_list, name="requests"),
    path("family/requests/drop/", family.request_drop, name="request_drop"),
    path("family/requests/transfer/", family.request_transfer, name="request_transfer"),
    path("family/requests/trial/", family.request_trial, name="request_trial"),
    path("family/requests/makeup/", family.request_makeup, name="request_makeup"),
    path("", include("classbook.families.portal_urls")),  # log-in, log-out, password link
]
