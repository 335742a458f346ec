"""Platform support visits: a stated reason, a banner, both identities logged, one-click end."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from classbook.accounts.models import Account, User
from classbook.accounts.services import operator_create
from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.staff.access import SUPPORT_VISITS_KEY
from classbook.staff.models import SupportVisit
from classbook.staff.services import security_policy_update, support_visit_end, support_visit_start
from tests.conftest import office_login
from tests.staff.test_two_factor import code_for

OPERATOR_PASSWORD = "Operator-Pass-2024"
REASON = "Owner asked for help with the location phone number"


@pytest.fixture
def operator(db) -> User:
    return operator_create(
        username="opal", email="opal@classbook.example", password=OPERATOR_PASSWORD
    )


@pytest.fixture
def ops(operator) -> Client:
    client = Client()
    response = client.post("/platform/login/", {"username": "opal", "password": OPERATOR_PASSWORD})
    assert response.status_code == 302
    return client


def enter_url(account) -> str:
    return f"/platform/accounts/{account.pk}/enter/"


def enter(ops, account, acting_as, reason=REASON):
    return ops.post(enter_url(account), {"reason": reason, "acting_as": acting_as.pk})


def visits(account) -> list[SupportVisit]:
    with activate_account(account):
        return list(SupportVisit.objects.all())


def entries(account, action) -> list[LogEntry]:
    with activate_account(account):
        return list(LogEntry.objects.filter(action=action))


def office(account, rest: str = "") -> str:
    return f"/{account.slug}/office/{rest}"


@pytest.fixture
def in_office(ops, account_a, alice):
    response = enter(ops, account_a, alice)
    assert response.status_code == 302
    return ops


# --- entering --------------------------------------------------------------------------------


def test_operator_sees_the_enter_form_with_the_accounts_staff(ops, account_a, alice, charlie):
    response = ops.get(enter_url(account_a))
    assert response.status_code == 200
    options = re.findall(r'<option value="(\d+)"', response.content.decode())
    with activate_account(account_a):
        owner = User.objects.get(username="owner")
    assert sorted(options) == sorted([str(owner.pk), str(alice.pk)])
    assert str(charlie.pk) not in options


def test_a_reason_is_required(ops, account_a, alice):
    response = ops.post(enter_url(account_a), {"acting_as": alice.pk})
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    assert visits(account_a) == []


def test_too_short_a_reason_is_a_field_error_and_nothing_is_recorded(ops, account_a, alice):
    before = len(entries(account_a, "support.visit_started"))
    response = enter(ops, account_a, alice, reason="help")
    assert response.status_code == 400
    assert "reason" in response.context["form"].errors
    assert visits(account_a) == []
    assert len(entries(account_a, "support.visit_started")) == before
    assert not ops.session.get(SUPPORT_VISITS_KEY, {}).get(str(account_a.pk))
    assert ops.get(office(account_a)).status_code in (302, 404)


def test_a_whitespace_padded_reason_is_judged_without_the_padding(ops, account_a, alice):
    response = enter(ops, account_a, alice, reason="   help me      ")
    assert response.status_code == 400
    assert visits(account_a) == []


def test_entering_lands_in_the_office_acting_as_the_chosen_person(ops, account_a, alice):
    response = enter(ops, account_a, alice)
    assert response.status_code == 302
    assert response["Location"] == office(account_a)
    [visit] = visits(account_a)
    assert visit.acting_as_id == alice.pk and visit.reason == REASON and visit.is_open
    page = ops.get(office(account_a))
    assert page.status_code == 200
    assert page.context["user"].pk == alice.pk


def test_the_office_shows_a_banner_naming_the_operator_and_reason(in_office, account_a):
    html = in_office.get(office(account_a)).content.decode()
    assert "Classbook support" in html
    assert "opal" in html
    assert REASON in html
    assert "End visit" in html


def test_staff_see_no_banner(client, account_a, alice):
    office_login(client, account_a, "alice")
    assert "End visit" not in client.get(office(account_a)).content.decode()


def test_visit_start_is_logged(in_office, account_a, alice, operator):
    [entry] = entries(account_a, "support.visit_started")
    assert entry.actor_kind == "platform"
    assert entry.actor_id == operator.pk
    assert entry.changes["reason"] == [None, REASON]
    assert entry.changes["acting_as"] == [None, str(alice)]


def test_acting_as_someone_uses_their_rights(ops, account_a, bob):
    enter(ops, account_a, bob)
    assert ops.get(office(account_a)).status_code == 200
    response = ops.get(office(account_a, "staff/"))
    assert response.status_code == 403
    assert "Manage staff" in response.content.decode()


def test_another_accounts_staff_cannot_be_chosen(ops, account_a, alice, charlie):
    response = enter(ops, account_a, charlie)
    assert response.status_code == 400
    assert "acting_as" in response.context["form"].errors
    assert visits(account_a) == []


def test_a_suspended_account_cannot_be_entered(ops, account_a, alice):
    Account.objects.filter(pk=account_a.pk).update(status=Account.Status.SUSPENDED)
    response = enter(ops, account_a, alice)
    assert response.status_code == 302
    assert response["Location"] == f"/platform/accounts/{account_a.pk}/"
    assert visits(account_a) == []
    assert not ops.session.get(SUPPORT_VISITS_KEY, {}).get(str(account_a.pk))
    assert ops.get(office(account_a)).status_code == 403  # the account-unavailable page


def test_staff_cannot_open_the_platform_enter_page(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = client.get(enter_url(account_a))
    assert response.status_code == 302
    assert response["Location"].startswith("/platform/login/")


def test_an_operator_without_a_visit_has_no_office_access(ops, account_a, alice):
    assert ops.get(office(account_a)).status_code in (302, 404)
    assert ops.get(office(account_a, "staff/")).status_code in (302, 404)


# --- acting during a visit -----------------------------------------------------------------


def test_actions_log_the_staff_identity_and_the_operator(
    in_office, account_a, alice, location_a, operator
):
    response = in_office.post(
        office(account_a, f"settings/locations/{location_a.pk}/edit/"),
        {
            "name": location_a.name,
            "phone": "(512) 555-0142",
            "timezone": location_a.timezone,
            "city": "Austin",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    [entry] = entries(account_a, "location.updated")
    assert entry.actor_id == alice.pk
    assert entry.actor_kind == "staff"
    assert entry.impersonator_id == operator.pk
    assert entry.impersonator_label == "opal"
    with activate_account(account_a):
        location_a.refresh_from_db()
    assert location_a.phone == "(512) 555-0142"


def test_the_owner_sees_the_visit_in_the_audit_log(in_office, client, account_a, alice):
    in_office.post(office(account_a, "staff/support/end/"))
    office_login(client, account_a, "owner")
    html = client.get(office(account_a, "audit/")).content.decode()
    assert "Classbook support entered the office" in html
    assert "Classbook support left the office" in html
    assert REASON in html


def test_support_actions_are_marked_in_the_audit_log(in_office, client, account_a, location_a):
    in_office.post(
        office(account_a, f"settings/locations/{location_a.pk}/edit/"),
        {"name": "Renamed by support", "timezone": location_a.timezone, "is_active": "on"},
    )
    office_login(client, account_a, "owner")
    response = client.get(office(account_a, "audit/"), {"action": "location.updated"})
    assert "Classbook support: opal" in response.content.decode()


def test_support_visit_skips_the_two_factor_rule(in_office, account_a):
    with activate_account(account_a):
        security_policy_update(require_two_factor=True)
    assert in_office.get(office(account_a)).status_code == 200


def test_a_support_visit_cannot_replace_the_persons_authenticator(in_office, account_a, alice):
    with activate_account(account_a):
        TOTPDevice.objects.create(user=alice, name="Alice's phone", confirmed=True)
    in_office.get(office(account_a, "staff/two-factor/"))
    with activate_account(account_a):
        device = TOTPDevice.objects.filter(user=alice, confirmed=False).first()
    if device is not None:
        in_office.post(office(account_a, "staff/two-factor/"), {"code": code_for(device)})
    with activate_account(account_a):
        kept = list(
            TOTPDevice.objects.filter(user=alice, confirmed=True).values_list("name", flat=True)
        )
    assert kept == ["Alice's phone"]


# --- ending ------------------------------------------------------------------------------------


def test_end_visit_is_one_post_back_to_the_platform(in_office, account_a):
    response = in_office.post(office(account_a, "staff/support/end/"))
    assert response.status_code == 302
    assert response["Location"] == f"/platform/accounts/{account_a.pk}/"
    [visit] = visits(account_a)
    assert not visit.is_open
    assert len(entries(account_a, "support.visit_ended")) == 1
    assert not in_office.session.get(SUPPORT_VISITS_KEY, {}).get(str(account_a.pk))
    assert in_office.get(response["Location"]).status_code == 200


def test_after_ending_the_operator_has_no_office_access(in_office, account_a):
    in_office.post(office(account_a, "staff/support/end/"))
    for path in ("", "staff/", "audit/"):
        assert in_office.get(office(account_a, path)).status_code in (302, 404), path
        if (response := in_office.get(office(account_a, path))).status_code == 302:
            assert "/login/" in response["Location"]


def test_a_visit_ended_elsewhere_ends_office_access(in_office, account_a):
    [visit] = visits(account_a)
    with activate_account(account_a):
        support_visit_end(visit=visit)
    assert in_office.get(office(account_a)).status_code in (302, 404)


def test_ending_twice_writes_one_end_entry(in_office, account_a):
    in_office.post(office(account_a, "staff/support/end/"))
    in_office.post(office(account_a, "staff/support/end/"))
    assert len(entries(account_a, "support.visit_ended")) == 1


def test_end_visit_needs_post(in_office, account_a):
    assert in_office.get(office(account_a, "staff/support/end/")).status_code == 405
    assert visits(account_a)[0].is_open


# --- forging -------------------------------------------------------------------------------------


def _open_visit(account, operator, acting_as):
    with activate_account(account):
        return support_visit_start(operator=operator, acting_as=acting_as, reason=REASON)


def test_a_staff_session_cannot_forge_the_support_visit_key(
    client, account_a, alice, bob, operator
):
    visit = _open_visit(account_a, operator, alice)
    office_login(client, account_a, "bob")
    session = client.session
    session[SUPPORT_VISITS_KEY] = {str(account_a.pk): visit.pk}
    session.save()
    response = client.get(office(account_a, "staff/"))
    assert response.status_code == 403  # still bob, not alice
    page = client.get(office(account_a))
    assert page.context["user"].pk == bob.pk
    assert "End visit" not in page.content.decode()
    assert not client.session.get(SUPPORT_VISITS_KEY, {}).get(str(account_a.pk))


def test_staff_cannot_end_someone_elses_visit(client, account_a, alice, bob, operator):
    visit = _open_visit(account_a, operator, alice)
    office_login(client, account_a, "bob")
    session = client.session
    session[SUPPORT_VISITS_KEY] = {str(account_a.pk): visit.pk}
    session.save()
    client.post(office(account_a, "staff/support/end/"))
    assert visits(account_a)[0].is_open


def test_another_operators_visit_cannot_be_borrowed(account_a, alice, operator):
    other = operator_create(
        username="otto", email="otto@classbook.example", password=OPERATOR_PASSWORD
    )
    visit = _open_visit(account_a, operator, alice)
    otto = Client()
    otto.post("/platform/login/", {"username": "otto", "password": OPERATOR_PASSWORD})
    session = otto.session
    session[SUPPORT_VISITS_KEY] = {str(account_a.pk): visit.pk}
    session.save()
    assert otto.get(office(account_a)).status_code in (302, 404)
    assert other.pk != operator.pk


def test_a_visit_to_one_account_gives_no_access_to_another(in_office, account_b, charlie):
    assert in_office.get(office(account_b)).status_code in (302, 404)


def test_looking_at_another_account_does_not_lose_the_open_visit(in_office, account_a, account_b):
    assert in_office.get(office(account_b)).status_code in (302, 404)
    assert in_office.get(office(account_a)).status_code == 200
