"""Staff log-in: by username or email, per-account usernames, lockout, audit, sessions."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.staff.services import staff_create, staff_set_active
from tests.conftest import PASSWORD, make_staff

OTHER_PASSWORD = "Other-Horse-77"


def login_url(account) -> str:
    return f"/{account.slug}/office/login/"


def dashboard_url(account) -> str:
    return f"/{account.slug}/office/"


def post_login(client, account, username, password=PASSWORD, *, next=None, **request_meta):
    data = {"username": username, "password": password}
    if next is not None:
        data["next"] = next
    return client.post(login_url(account), data, **request_meta)


def logged_in_as(client):
    return client.session.get(SESSION_KEY)


@pytest.fixture
def sam_in_both(account_a, account_b):
    """A "sam" in each business, with different passwords."""
    sam_a = make_staff(account_a, "sam", groups=("Front Desk",))
    with activate_account(account_b):
        sam_b = staff_create(
            username="sam", email="sam@bravo.example", password=OTHER_PASSWORD, first_name="Sam"
        )
    return sam_a, sam_b


# --- who can log in --------------------------------------------------------------------


def test_login_by_username(client, account_a, bob):
    response = post_login(client, account_a, "bob")
    assert response.status_code == 302
    assert response["Location"] == dashboard_url(account_a)
    assert logged_in_as(client) == str(bob.pk)
    assert client.get(dashboard_url(account_a)).status_code == 200


def test_login_by_username_ignores_case(client, account_a, bob):
    response = post_login(client, account_a, "BoB")
    assert response.status_code == 302
    assert logged_in_as(client) == str(bob.pk)


def test_login_by_email_ignores_case(client, account_a, bob):
    response = post_login(client, account_a, "BOB@Alpha.Example")
    assert response.status_code == 302
    assert logged_in_as(client) == str(bob.pk)


def test_wrong_password_is_refused_with_a_message_and_no_session(client, account_a, bob):
    response = post_login(client, account_a, "bob", "Not-The-Password-1")
    assert response.status_code == 400
    assert "do not match an active staff login" in response.content.decode()
    assert logged_in_as(client) is None
    assert client.get(dashboard_url(account_a)).status_code == 302


def test_unknown_username_gets_the_same_message(client, account_a, bob):
    response = post_login(client, account_a, "nobody-here")
    assert response.status_code == 400
    assert "do not match an active staff login" in response.content.decode()
    assert logged_in_as(client) is None


def test_deactivated_staff_cannot_log_in(client, account_a, alice, bob):
    with activate_account(account_a):
        staff_set_active(user=bob, by=alice, active=False)
    response = post_login(client, account_a, "bob")
    assert response.status_code == 400
    assert logged_in_as(client) is None


def test_staff_of_another_account_cannot_log_in_here(client, account_a, charlie):
    response = post_login(client, account_a, "charlie")
    assert response.status_code == 400
    assert logged_in_as(client) is None


def test_usernames_are_per_account(account_a, account_b, sam_in_both):
    sam_a, sam_b = sam_in_both
    # A's sam: A's password works in A only.
    client = Client()
    assert post_login(client, account_a, "sam", PASSWORD).status_code == 302
    assert logged_in_as(client) == str(sam_a.pk)
    assert post_login(Client(), account_b, "sam", PASSWORD).status_code == 400
    # B's sam: B's password works in B only.
    client = Client()
    assert post_login(client, account_b, "sam", OTHER_PASSWORD).status_code == 302
    assert logged_in_as(client) == str(sam_b.pk)
    assert post_login(Client(), account_a, "sam", OTHER_PASSWORD).status_code == 400


# --- lockout (django-axes, keyed per account) --------------------------------------------


def fail(client, account, username, times):
    return [
        post_login(client, account, username, "Wrong-Password-9").status_code for _ in range(times)
    ]


def test_lockout_after_the_failure_limit(client, account_a, bob):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5  # CLASSBOOK_LOGIN_FAILURE_LIMIT's default
    assert fail(client, account_a, "bob", limit - 1) == [400] * (limit - 1)
    response = post_login(client, account_a, "bob", "Wrong-Password-9")
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()


def test_locked_login_refuses_even_the_right_password(client, account_a, bob):
    fail(client, account_a, "bob", settings.AXES_FAILURE_LIMIT)
    response = post_login(client, account_a, "bob")
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert logged_in_as(client) is None


def test_lockout_does_not_lock_the_same_username_in_another_account(
    client, account_a, account_b, sam_in_both
):
    fail(client, account_a, "sam", settings.AXES_FAILURE_LIMIT)
    assert post_login(client, account_a, "sam").status_code == 429
    other = Client()
    response = post_login(other, account_b, "sam", OTHER_PASSWORD)
    assert response.status_code == 302
    assert logged_in_as(other) == str(sam_in_both[1].pk)


def test_lockout_covers_the_same_login_typed_as_its_email(client, account_a, bob):
    fail(client, account_a, "bob", settings.AXES_FAILURE_LIMIT)
    response = post_login(client, account_a, "bob@alpha.example")
    assert response.status_code == 429
    assert logged_in_as(client) is None


def test_lockout_is_per_address(account_a, bob):
    limit = settings.AXES_FAILURE_LIMIT
    here, there = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="198.51.100.2")
    fail(here, account_a, "bob", limit)
    assert post_login(here, account_a, "bob").status_code == 429
    assert post_login(there, account_a, "bob").status_code == 302


def test_successful_login_resets_the_failure_counter(client, account_a, bob):
    limit = settings.AXES_FAILURE_LIMIT
    fail(client, account_a, "bob", limit - 1)
    assert post_login(client, account_a, "bob").status_code == 302
    client.post(f"/{account_a.slug}/office/logout/")
    # Without the reset, the next failure would be the limit-th and lock the login.
    assert fail(client, account_a, "bob", limit - 1) == [400] * (limit - 1)
    assert post_login(client, account_a, "bob").status_code == 302


# --- audit -------------------------------------------------------------------------------


def test_login_writes_an_audit_entry_with_the_address(client, account_a, bob):
    post_login(client, account_a, "bob", REMOTE_ADDR="203.0.113.7")
    with activate_account(account_a):
        entry = LogEntry.objects.get(action="auth.logged_in")
    assert entry.actor_id == bob.pk
    assert entry.object_id == str(bob.pk)
    assert entry.ip == "203.0.113.7"


def test_failed_login_writes_no_logged_in_entry(client, account_a, bob):
    post_login(client, account_a, "bob", "Wrong-Password-9")
    with activate_account(account_a):
        assert not LogEntry.objects.filter(action="auth.logged_in").exists()


def test_login_records_last_login(client, account_a, bob):
    assert bob.last_login is None
    post_login(client, account_a, "bob")
    with activate_account(account_a):
        bob.refresh_from_db()
    assert bob.last_login is not None


# --- where a log-in leads ------------------------------------------------------------------


def test_next_path_on_this_site_is_honoured(client, account_a, alice):
    target = f"/{account_a.slug}/office/staff/"
    response = post_login(client, account_a, "alice", next=target)
    assert response["Location"] == target


def test_next_from_the_query_string_is_honoured(client, account_a, alice):
    target = f"/{account_a.slug}/office/staff/"
    response = client.post(
        f"{login_url(account_a)}?next={target}", {"username": "alice", "password": PASSWORD}
    )
    assert response["Location"] == target


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/phish", "//evil.example/phish", "http://evil.example", "javascript:x"],
)
def test_next_to_another_site_is_refused(client, account_a, alice, target):
    response = post_login(client, account_a, "alice", next=target)
    assert response.status_code == 302
    assert response["Location"] == dashboard_url(account_a)


def test_anonymous_visit_is_sent_to_login_with_next(client, account_a):
    response = client.get(f"/{account_a.slug}/office/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith(login_url(account_a))
    assert "next=" in response["Location"]


# --- sessions ----------------------------------------------------------------------------


def test_session_cookie_lasts_the_inactivity_timeout(client, account_a, bob):
    response = post_login(client, account_a, "bob")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


def test_every_request_renews_the_session(client, account_a, bob):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    post_login(client, account_a, "bob")
    response = client.get(dashboard_url(account_a))
    assert response.status_code == 200
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE


def test_an_idle_session_expires(client, account_a, bob):
    post_login(client, account_a, "bob")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(dashboard_url(account_a))
    assert response.status_code == 302
    assert response["Location"].startswith(login_url(account_a))


def test_login_gives_a_new_session_key(client, account_a, bob):
    client.get(login_url(account_a))
    client.session.save()
    before = client.session.session_key
    post_login(client, account_a, "bob")
    assert client.session.session_key != before


def test_concurrent_sessions_for_one_person_all_work(account_a, bob):
    first, second = Client(), Client()
    post_login(first, account_a, "bob")
    post_login(second, account_a, "bob")
    assert first.cookies[settings.SESSION_COOKIE_NAME].value != (
        second.cookies[settings.SESSION_COOKIE_NAME].value
    )
    assert first.get(dashboard_url(account_a)).status_code == 200
    assert second.get(dashboard_url(account_a)).status_code == 200


def test_logout_ends_only_this_session(account_a, bob):
    first, second = Client(), Client()
    post_login(first, account_a, "bob")
    post_login(second, account_a, "bob")
    response = first.post(f"/{account_a.slug}/office/logout/")
    assert response.status_code == 302
    assert first.get(dashboard_url(account_a)).status_code == 302
    assert second.get(dashboard_url(account_a)).status_code == 200


def test_logout_needs_post(client, account_a, bob):
    post_login(client, account_a, "bob")
    assert client.get(f"/{account_a.slug}/office/logout/").status_code == 405
    assert client.get(dashboard_url(account_a)).status_code == 200
