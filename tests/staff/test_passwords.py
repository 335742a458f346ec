"""Passwords: change, strength and reuse rules, one-time passwords, reset links."""

import json
import re
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from classbook.accounts.models import Account, User
from classbook.audit.models import LogEntry
from classbook.audit.services import MASK
from classbook.core.tenancy import activate_account
from classbook.staff.services import staff_password_change, staff_set_active
from tests.conftest import PASSWORD, make_staff, office_login

NEW_PASSWORD = "Brand-New-Sunrise-81"
NEUTRAL = "If that is a staff login here with an email address"


def change_url(account) -> str:
    return f"/{account.slug}/office/password/"


def change(client, account, old, new, confirm=None):
    return client.post(
        change_url(account),
        {"old_password": old, "new_password1": new, "new_password2": confirm or new},
    )


def all_errors(response) -> list[str]:
    return [m for messages in response.context["form"].errors.values() for m in messages]


def can_log_in(account, username, password) -> bool:
    client = Client()
    response = client.post(
        f"/{account.slug}/office/login/", {"username": username, "password": password}
    )
    return response.status_code == 302 and SESSION_KEY in client.session


# --- changing your password ----------------------------------------------------------------


def test_change_password(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = change(client, account_a, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get(f"/{account_a.slug}/office/").status_code == 200  # still logged in
    assert can_log_in(account_a, "bob", NEW_PASSWORD)
    assert not can_log_in(account_a, "bob", PASSWORD)


def test_change_is_audited_with_the_password_masked(client, account_a, bob):
    office_login(client, account_a, "bob")
    change(client, account_a, PASSWORD, NEW_PASSWORD)
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="staff.password_changed")
    assert entry.actor_id == bob.pk
    assert entry.changes == {"password": [MASK, MASK]}


def test_wrong_old_password_is_refused(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = change(client, account_a, "Not-My-Password-1", NEW_PASSWORD)
    assert response.status_code == 400
    assert (
        "old password was entered incorrectly" in response.context["form"].errors["old_password"][0]
    )
    assert can_log_in(account_a, "bob", PASSWORD)


def test_mismatched_confirmation_is_refused(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = change(client, account_a, PASSWORD, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert any("didn’t match" in m or "didn't match" in m for m in all_errors(response))
    assert can_log_in(account_a, "bob", PASSWORD)


@pytest.mark.parametrize(
    ("weak", "message"),
    [
        ("Sh0rt-pw", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("8812734569102", "This password is entirely numeric."),
        ("bob@alpha.example", "The password is too similar to the email"),
    ],
    ids=["too-short", "common", "numeric", "like-email"],
)
def test_weak_passwords_show_the_validator_message(client, account_a, bob, weak, message):
    office_login(client, account_a, "bob")
    response = change(client, account_a, PASSWORD, weak)
    assert response.status_code == 400
    assert any(message in m for m in all_errors(response)), all_errors(response)
    assert message.split(".")[0] in response.content.decode().replace("&#x27;", "'")
    assert can_log_in(account_a, "bob", PASSWORD)


def test_password_like_the_username_is_refused(client, account_a):
    make_staff(account_a, "maximiliano", groups=("Instructor",))
    office_login(client, account_a, "maximiliano")
    response = change(client, account_a, PASSWORD, "Maximiliano1")
    assert response.status_code == 400
    assert "The password is too similar to the username." in all_errors(response)
    assert can_log_in(account_a, "maximiliano", PASSWORD)


def test_reusing_the_current_password_is_refused(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = change(client, account_a, PASSWORD, PASSWORD)
    assert response.status_code == 400
    assert any("used this password recently" in m for m in all_errors(response))


def test_reusing_one_of_the_last_five_passwords_is_refused(client, account_a, bob):
    with activate_account(account_a):
        for n in range(1, 6):  # PASSWORD is now five changes back
            staff_password_change(user=bob, new_password=f"Interim-Password-{n}x")
    latest = "Interim-Password-5x"
    client.post(f"/{account_a.slug}/office/login/", {"username": "bob", "password": latest})
    response = change(client, account_a, latest, PASSWORD)
    assert response.status_code == 400
    assert any("used this password recently" in m for m in all_errors(response))
    assert can_log_in(account_a, "bob", latest)


def test_a_password_six_changes_back_may_be_used_again(client, account_a, bob):
    with activate_account(account_a):
        for n in range(1, 7):  # PASSWORD has dropped out of the history
            staff_password_change(user=bob, new_password=f"Interim-Password-{n}x")
    latest = "Interim-Password-6x"
    client.post(f"/{account_a.slug}/office/login/", {"username": "bob", "password": latest})
    response = change(client, account_a, latest, PASSWORD)
    assert response.status_code == 302
    assert can_log_in(account_a, "bob", PASSWORD)


def test_changing_the_password_ends_the_persons_other_sessions(client, account_a, bob):
    other = Client()
    office_login(other, account_a, "bob")
    office_login(client, account_a, "bob")
    change(client, account_a, PASSWORD, NEW_PASSWORD)
    assert client.get(f"/{account_a.slug}/office/").status_code == 200
    assert other.get(f"/{account_a.slug}/office/").status_code == 302


# --- one-time passwords ----------------------------------------------------------------------


@pytest.fixture
def new_business(db):
    out = StringIO()
    call_command(
        "createaccount",
        slug="delta",
        name="Delta Dance",
        owner_email="dee@delta.example",
        timezone="America/Chicago",
        stdout=out,
    )
    one_time = re.search(r"one-time password.*: (\S+)", out.getvalue()).group(1)
    return Account.objects.get(slug="delta"), one_time


def test_one_time_password_logs_in_and_forces_the_change_page_first(client, new_business):
    account, one_time = new_business
    response = client.post(
        f"/{account.slug}/office/login/", {"username": "dee", "password": one_time}
    )
    assert response.status_code == 302
    for path in ("", "staff/", "audit/", "settings/locations/"):
        response = client.get(f"/{account.slug}/office/{path}")
        assert response.status_code == 302, path
        assert response["Location"] == change_url(account), path
    page = client.get(change_url(account))
    assert page.status_code == 200
    assert "one-time password" in page.content.decode()


def test_after_choosing_a_password_the_office_opens(client, new_business):
    account, one_time = new_business
    client.post(f"/{account.slug}/office/login/", {"username": "dee", "password": one_time})
    response = change(client, account, one_time, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get(f"/{account.slug}/office/").status_code == 200
    with activate_account(account):
        assert User.objects.get(username="dee").must_change_password is False


# --- reset by email link -----------------------------------------------------------------


def request_reset(client, account, login, capture):
    with capture(execute=True):
        return client.post(f"/{account.slug}/office/password/reset/", {"login": login}, follow=True)


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_reset_for_an_unknown_username_is_neutral_and_sends_nothing(
    client, account_a, bob, django_capture_on_commit_callbacks
):
    response = request_reset(
        client, account_a, "no-such-person", django_capture_on_commit_callbacks
    )
    assert response.status_code == 200
    assert NEUTRAL in response.content.decode()
    assert mail.outbox == []


def test_reset_for_another_accounts_username_sends_nothing(
    client, account_a, charlie, django_capture_on_commit_callbacks
):
    response = request_reset(client, account_a, "charlie", django_capture_on_commit_callbacks)
    assert NEUTRAL in response.content.decode()
    assert mail.outbox == []


def test_reset_for_a_known_username_sends_one_mail(
    client, account_a, bob, django_capture_on_commit_callbacks
):
    response = request_reset(client, account_a, "BOB", django_capture_on_commit_callbacks)
    assert NEUTRAL in response.content.decode()  # the same words as for an unknown name
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["bob@alpha.example"]
    assert f"/{account_a.slug}/office/password/reset/" in link_path(mail.outbox[0])
    with activate_account(account_a):
        assert LogEntry.objects.filter(action="staff.password_link_sent").count() == 1


def test_reset_by_email_address(client, account_a, bob, django_capture_on_commit_callbacks):
    request_reset(client, account_a, "bob@alpha.example", django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_reset_link_sets_a_new_password(client, account_a, bob, django_capture_on_commit_callbacks):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])
    assert client.get(path).status_code == 200
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == f"/{account_a.slug}/office/login/"
    assert can_log_in(account_a, "bob", NEW_PASSWORD)
    assert not can_log_in(account_a, "bob", PASSWORD)


def test_reset_link_refuses_a_weak_password(
    client, account_a, bob, django_capture_on_commit_callbacks
):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])
    response = client.post(path, {"new_password1": "1234567890", "new_password2": "1234567890"})
    assert response.status_code == 400
    assert any("entirely numeric" in m for m in all_errors(response))
    assert can_log_in(account_a, "bob", PASSWORD)


def test_reset_link_refuses_the_current_password(
    client, account_a, bob, django_capture_on_commit_callbacks
):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])
    response = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 400
    assert any("used this password recently" in m for m in all_errors(response))


def test_reset_link_works_once(client, account_a, bob, django_capture_on_commit_callbacks):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0])
    client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = client.get(path)
    assert again.status_code == 400
    assert "This link no longer works" in again.content.decode()
    response = client.post(
        path, {"new_password1": "Yet-Another-Pass-55", "new_password2": "Yet-Another-Pass-55"}
    )
    assert response.status_code == 400
    assert can_log_in(account_a, "bob", NEW_PASSWORD)


def test_choosing_a_new_password_from_the_link_lifts_a_lockout(
    client, account_a, bob, settings, django_capture_on_commit_callbacks
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            f"/{account_a.slug}/office/login/", {"username": "bob", "password": "Wrong-Pass-99"}
        )
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    client.post(
        link_path(mail.outbox[0]), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    response = client.post(
        f"/{account_a.slug}/office/login/", {"username": "bob", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302


class _FourDaysAgo(PasswordResetTokenGenerator):
    def _now(self):
        return datetime.now() - timedelta(days=4)


def test_expired_reset_link_is_refused(client, account_a, bob):
    with activate_account(account_a):
        token = _FourDaysAgo().make_token(bob)
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    path = f"/{account_a.slug}/office/password/reset/{uid}/{token}/"
    response = client.get(path)
    assert response.status_code == 400
    assert "This link no longer works" in response.content.decode()
    response = client.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 400
    assert can_log_in(account_a, "bob", PASSWORD)


def test_link_older_than_the_reset_timeout_is_refused(
    client, account_a, bob, settings, django_capture_on_commit_callbacks
):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is now past its age
    response = client.get(link_path(mail.outbox[0]))
    assert response.status_code == 400
    assert "This link no longer works" in response.content.decode()


def test_a_fresh_token_from_the_same_generator_works(client, account_a, bob):
    with activate_account(account_a):
        token = PasswordResetTokenGenerator().make_token(bob)
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    assert client.get(f"/{account_a.slug}/office/password/reset/{uid}/{token}/").status_code == 200


def test_reset_link_of_one_account_does_not_work_in_another(
    client, account_a, account_b, bob, django_capture_on_commit_callbacks
):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    path = link_path(mail.outbox[0]).replace(f"/{account_a.slug}/", f"/{account_b.slug}/")
    assert client.get(path).status_code == 400


@pytest.mark.parametrize("uid", ["!!!", "MTIzNDU2Nzg5", "bm90LWEtbnVtYmVy"])
def test_garbled_reset_link_is_refused(client, account_a, bob, uid):
    response = client.get(f"/{account_a.slug}/office/password/reset/{uid}/abc-def/")
    assert response.status_code == 400
    assert "This link no longer works" in response.content.decode()


def test_reset_link_for_a_deactivated_login_is_refused(
    client, account_a, alice, bob, django_capture_on_commit_callbacks
):
    request_reset(client, account_a, "bob", django_capture_on_commit_callbacks)
    with activate_account(account_a):
        staff_set_active(user=bob, by=alice, active=False)
    assert client.get(link_path(mail.outbox[0])).status_code == 400


# --- secrets never reach the audit log ----------------------------------------------------------


def test_passwords_never_appear_in_audit_entries(
    client, account_a, alice, bob, django_capture_on_commit_callbacks
):
    office_login(client, account_a, "bob")
    change(client, account_a, PASSWORD, NEW_PASSWORD)
    request_reset(Client(), account_a, "bob", django_capture_on_commit_callbacks)
    reset_password = "Reset-Chosen-Pass-63"
    Client().post(
        link_path(mail.outbox[0]),
        {"new_password1": reset_password, "new_password2": reset_password},
    )
    assert can_log_in(account_a, "bob", reset_password)
    with activate_account(account_a):
        entries = list(LogEntry.objects.all())
        bob.refresh_from_db()
    recorded = json.dumps([e.changes for e in entries], ensure_ascii=False)
    for secret in (PASSWORD, NEW_PASSWORD, reset_password, bob.password):
        assert secret not in recorded
    password_entries = [e for e in entries if "password" in e.changes]
    assert {e.action for e in password_entries} >= {"staff.password_changed", "staff.password_set"}
    for entry in password_entries:
        assert entry.changes["password"] == [MASK, MASK]
