"""The office in a real browser: log in, switch location, reach staff pages, on desktop
and phone."""

import pytest

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, account, username):
    page.goto(f"{live_server.url}/{account.slug}/office/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_owner_logs_in_and_switches_location(page, live_server, account_a, alice):
    log_in(page, live_server, account_a, "alice")
    page.get_by_role("heading", name="Good").wait_for()
    assert "Alpha Gym" in page.title()
    page.get_by_label("Location").select_option(label="Alpha Gym Main")
    page.get_by_text("Working at Alpha Gym Main.").wait_for()
    page.get_by_role("link", name="Staff").click()
    page.get_by_role("heading", name="Staff", exact=True).wait_for()
    assert page.get_by_role("link", name="Alice").is_visible()


def test_wrong_password_is_explained(page, live_server, account_a, alice):
    page.goto(f"{live_server.url}/{account_a.slug}/office/login/")
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("do not match an active staff login").wait_for()


def test_instructor_sees_only_what_they_may_open(page, live_server, account_a, bob):
    log_in(page, live_server, account_a, "bob")
    page.get_by_role("heading", name="Good").wait_for()
    assert page.get_by_role("link", name="Staff").count() == 0
    page.goto(f"{live_server.url}/{account_a.slug}/office/staff/")
    assert page.get_by_text("Manage staff").is_visible()


def test_office_on_a_phone_opens_the_menu(phone, live_server, account_a, alice):
    log_in(phone, live_server, account_a, "alice")
    phone.get_by_role("heading", name="Good").wait_for()
    phone.get_by_role("button", name="Open navigation").click()
    phone.get_by_role("link", name="Locations").click()
    phone.get_by_role("heading", name="Locations").wait_for()
