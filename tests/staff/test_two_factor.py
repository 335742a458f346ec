"""Optional TOTP two-factor: set-up, log-in with a code, the owner's rule, removal."""

import base64
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.staff.selectors import security_policy
from classbook.staff.services import security_policy_update
from tests.conftest import PASSWORD, office_login


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps_ahead`` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {code_for(device, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def setup_url(account) -> str:
    return f"/{account.slug}/office/staff/two-factor/"


def confirmed_device(account, user) -> TOTPDevice:
    with activate_account(account):
        return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def devices(account, user):
    with activate_account(account):
        return list(TOTPDevice.objects.filter(user=user).values_list("confirmed", flat=True))


def entries(account, action):
    with activate_account(account):
        return list(LogEntry.objects.filter(action=action))


def start_login(client, account, username):
    return client.post(
        f"/{account.slug}/office/login/", {"username": username, "password": PASSWORD}
    )


# --- set-up ------------------------------------------------------------------------------


def test_setup_page_shows_a_qr_code_and_the_secret(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = client.get(setup_url(account_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    secret = response.context["secret"]
    assert len(secret) >= 16 and secret in html
    with activate_account(account_a):
        device = TOTPDevice.objects.get(user=bob, confirmed=False)
        assert f"secret={secret.rstrip('=')}" in device.config_url
    assert base64.b32encode(device.bin_key).decode() == secret


def test_confirming_with_the_right_code_turns_two_factor_on(client, account_a, bob):
    office_login(client, account_a, "bob")
    client.get(setup_url(account_a))
    with activate_account(account_a):
        device = TOTPDevice.objects.get(user=bob, confirmed=False)
    response = client.post(setup_url(account_a), {"code": code_for(device)})
    assert response.status_code == 302
    assert devices(account_a, bob) == [True]
    [entry] = entries(account_a, "staff.two_factor_enabled")
    assert entry.object_id == str(bob.pk)
    assert entry.actor_id == bob.pk


def test_confirming_with_a_wrong_code_is_a_field_error(client, account_a, bob):
    office_login(client, account_a, "bob")
    client.get(setup_url(account_a))
    with activate_account(account_a):
        device = TOTPDevice.objects.get(user=bob, confirmed=False)
    response = client.post(setup_url(account_a), {"code": wrong_code(device)})
    assert response.status_code == 400
    assert "does not match" in response.context["form"].errors["code"][0]
    assert devices(account_a, bob) == [False]
    assert entries(account_a, "staff.two_factor_enabled") == []


def test_a_code_that_is_not_six_digits_is_a_field_error(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = client.post(setup_url(account_a), {"code": "12ab56"})
    assert response.status_code == 400
    assert "code" in response.context["form"].errors
    assert devices(account_a, bob) == [False]


# --- logging in with a code ----------------------------------------------------------------


def test_login_with_a_device_asks_for_the_code(client, account_a, bob):
    confirmed_device(account_a, bob)
    response = start_login(client, account_a, "bob")
    assert response.status_code == 302
    assert response["Location"] == f"/{account_a.slug}/office/login/verify/"
    assert SESSION_KEY not in client.session
    assert client.get(f"/{account_a.slug}/office/").status_code == 302


def test_wrong_code_is_refused(client, account_a, bob):
    device = confirmed_device(account_a, bob)
    start_login(client, account_a, "bob")
    response = client.post(f"/{account_a.slug}/office/login/verify/", {"code": wrong_code(device)})
    assert response.status_code == 400
    assert "not right" in response.context["form"].errors["code"][0]
    assert SESSION_KEY not in client.session
    assert entries(account_a, "auth.logged_in") == []


def test_right_code_logs_in(client, account_a, bob):
    device = confirmed_device(account_a, bob)
    start_login(client, account_a, "bob")
    response = client.post(f"/{account_a.slug}/office/login/verify/", {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == f"/{account_a.slug}/office/"
    assert client.session[SESSION_KEY] == str(bob.pk)
    assert client.get(f"/{account_a.slug}/office/").status_code == 200
    assert len(entries(account_a, "auth.logged_in")) == 1


def test_next_survives_the_code_step_but_only_on_this_site(account_a, bob):
    device = confirmed_device(account_a, bob)
    for target, expected in [
        (f"/{account_a.slug}/office/password/", f"/{account_a.slug}/office/password/"),
        ("https://evil.example/", f"/{account_a.slug}/office/"),
    ]:
        client = Client()
        client.post(
            f"/{account_a.slug}/office/login/",
            {"username": "bob", "password": PASSWORD, "next": target},
        )
        steps_ahead = 0 if target.startswith("/") else 1  # a code works once
        response = client.post(
            f"/{account_a.slug}/office/login/verify/",
            {"code": code_for(device, steps_ahead=steps_ahead)},
        )
        assert response["Location"] == expected
        with activate_account(account_a):
            device.refresh_from_db()


def test_verify_page_without_a_password_step_goes_back_to_login(client, account_a, bob):
    device = confirmed_device(account_a, bob)
    response = client.post(f"/{account_a.slug}/office/login/verify/", {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == f"/{account_a.slug}/office/login/"
    assert SESSION_KEY not in client.session


def test_a_code_cannot_be_used_twice(account_a, bob, client):
    device = confirmed_device(account_a, bob)
    code = code_for(device)
    start_login(client, account_a, "bob")
    assert client.post(f"/{account_a.slug}/office/login/verify/", {"code": code}).status_code == 302
    other = Client()
    start_login(other, account_a, "bob")
    response = other.post(f"/{account_a.slug}/office/login/verify/", {"code": code})
    assert response.status_code == 400
    assert SESSION_KEY not in other.session


# --- the owner's rule ----------------------------------------------------------------------


@pytest.fixture
def two_factor_required(account_a, alice, client):
    office_login(client, account_a, "alice")
    response = client.post(
        f"/{account_a.slug}/office/staff/security/", {"require_two_factor": "on"}
    )
    assert response.status_code == 302
    client.post(f"/{account_a.slug}/office/logout/")
    with activate_account(account_a):
        assert security_policy().require_two_factor is True


def test_turning_on_the_rule_is_audited(account_a, two_factor_required):
    [entry] = entries(account_a, "security.policy_changed")
    assert entry.changes == {"require_two_factor": [False, True]}


def test_required_two_factor_sends_staff_without_a_device_to_setup(
    client, account_a, bob, two_factor_required
):
    office_login(client, account_a, "bob")
    for path in ("", "staff/", "settings/locations/", "audit/"):
        response = client.get(f"/{account_a.slug}/office/{path}")
        assert response.status_code == 302, path
        assert response["Location"] == setup_url(account_a), path


def test_required_two_factor_still_allows_setup_password_change_and_logout(
    client, account_a, bob, two_factor_required
):
    office_login(client, account_a, "bob")
    assert client.get(setup_url(account_a)).status_code == 200
    assert client.get(f"/{account_a.slug}/office/password/").status_code == 200
    response = client.post(f"/{account_a.slug}/office/logout/")
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_required_two_factor_lets_a_verified_login_through(
    client, account_a, bob, two_factor_required
):
    device = confirmed_device(account_a, bob)
    start_login(client, account_a, "bob")
    client.post(f"/{account_a.slug}/office/login/verify/", {"code": code_for(device)})
    assert client.get(f"/{account_a.slug}/office/").status_code == 200


def test_setting_up_a_device_satisfies_the_rule(client, account_a, bob, two_factor_required):
    office_login(client, account_a, "bob")
    client.get(setup_url(account_a))
    with activate_account(account_a):
        device = TOTPDevice.objects.get(user=bob, confirmed=False)
    client.post(setup_url(account_a), {"code": code_for(device)})
    assert client.get(f"/{account_a.slug}/office/").status_code == 200


def test_rule_off_by_default_lets_staff_without_device_in(client, account_a, bob):
    office_login(client, account_a, "bob")
    assert client.get(f"/{account_a.slug}/office/").status_code == 200


def test_rule_of_one_account_does_not_bind_another(client, account_a, account_b, charlie):
    with activate_account(account_a):
        security_policy_update(require_two_factor=True)
    office_login(client, account_b, "charlie")
    assert client.get(f"/{account_b.slug}/office/").status_code == 200


# --- removing a device -----------------------------------------------------------------------


def test_manager_of_staff_can_remove_a_device(client, account_a, alice, bob):
    confirmed_device(account_a, bob)
    office_login(client, account_a, "alice")
    detail = client.get(f"/{account_a.slug}/office/staff/{bob.pk}/")
    assert "Remove device" in detail.content.decode()
    response = client.post(f"/{account_a.slug}/office/staff/{bob.pk}/two-factor/remove/")
    assert response.status_code == 302
    assert devices(account_a, bob) == []
    [entry] = entries(account_a, "staff.two_factor_removed")
    assert entry.actor_id == alice.pk
    assert entry.object_id == str(bob.pk)


def test_after_removal_login_needs_no_code(client, account_a, alice, bob):
    confirmed_device(account_a, bob)
    office_login(client, account_a, "alice")
    client.post(f"/{account_a.slug}/office/staff/{bob.pk}/two-factor/remove/")
    other = Client()
    response = start_login(other, account_a, "bob")
    assert response["Location"] == f"/{account_a.slug}/office/"
    assert other.session[SESSION_KEY] == str(bob.pk)


def test_staff_without_manage_staff_cannot_remove_a_device(client, account_a, alice, bob):
    confirmed_device(account_a, alice)
    office_login(client, account_a, "bob")
    response = client.post(f"/{account_a.slug}/office/staff/{alice.pk}/two-factor/remove/")
    assert response.status_code == 403
    assert devices(account_a, alice) == [True]
