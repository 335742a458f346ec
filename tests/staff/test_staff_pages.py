"""Staff pages: the directory, inviting, editing access, deactivating, last log-in."""

import re
import zoneinfo

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.utils import dateformat

from classbook.accounts.models import User
from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.staff.models import GroupMembership, LocationAccess, PermissionGrant, UserGroup
from classbook.staff.selectors import effective_permissions
from classbook.staff.services import staff_set_active
from tests.conftest import PASSWORD, make_staff, office_login


def staff_url(account, rest: str = "") -> str:
    return f"/{account.slug}/office/staff/{rest}"


def group_id(account, name: str) -> int:
    with activate_account(account):
        return UserGroup.objects.get(name=name).pk


def fresh(account, user) -> User:
    with activate_account(account):
        return User.objects.get(pk=user.pk)


def group_names(account, user) -> list[str]:
    with activate_account(account):
        return sorted(
            GroupMembership.objects.filter(user=user).values_list("group__name", flat=True)
        )


def entry_count(account, action: str) -> int:
    with activate_account(account):
        return LogEntry.objects.filter(action=action).count()


def usernames(response) -> list[str]:
    return [person.username for person in response.context["page"].object_list]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def alice_client(client, account_a, alice):
    office_login(client, account_a, "alice")
    return client


# --- the directory -----------------------------------------------------------------------


def test_list_shows_active_staff_of_this_account_only(alice_client, account_a, bob, charlie):
    response = alice_client.get(staff_url(account_a))
    assert response.status_code == 200
    assert set(usernames(response)) == {"owner", "alice", "bob"}
    assert "charlie" not in response.content.decode()


def test_list_search_matches_name_username_and_email(alice_client, account_a, bob):
    make_staff(account_a, "dana", groups=("Front Desk",), last_name="Okafor")
    assert usernames(alice_client.get(staff_url(account_a), {"q": "okaf"})) == ["dana"]
    assert usernames(alice_client.get(staff_url(account_a), {"q": "BOB"})) == ["bob"]
    assert usernames(alice_client.get(staff_url(account_a), {"q": "dana@alpha"})) == ["dana"]
    empty = alice_client.get(staff_url(account_a), {"q": "zzz-nobody"})
    assert usernames(empty) == []
    assert "No staff match this filter" in empty.content.decode()


def test_list_group_filter(alice_client, account_a, bob):
    make_staff(account_a, "dana", groups=("Front Desk",))
    make_staff(account_a, "eli", groups=("Front Desk", "Instructor"))
    front_desk = group_id(account_a, "Front Desk")
    response = alice_client.get(staff_url(account_a), {"group": front_desk})
    assert usernames(response) == ["dana", "eli"]
    instructors = alice_client.get(
        staff_url(account_a), {"group": group_id(account_a, "Instructor")}
    )
    assert usernames(instructors) == ["bob", "eli"]


def test_list_status_filter(alice_client, account_a, alice, bob):
    with activate_account(account_a):
        staff_set_active(user=bob, by=alice, active=False)
    assert "bob" not in usernames(alice_client.get(staff_url(account_a)))
    assert usernames(alice_client.get(staff_url(account_a), {"status": "inactive"})) == ["bob"]
    everyone = alice_client.get(staff_url(account_a), {"status": "all"})
    assert set(usernames(everyone)) == {"owner", "alice", "bob"}
    # An unknown status falls back to active staff.
    assert "bob" not in usernames(alice_client.get(staff_url(account_a), {"status": "zzz"}))


def test_list_paginates(alice_client, account_a):
    for n in range(30):
        make_staff(account_a, f"temp{n:02d}")
    first = alice_client.get(staff_url(account_a))
    second = alice_client.get(staff_url(account_a), {"page": 2})
    assert len(usernames(first)) == 25
    assert len(usernames(second)) == 32 - 25
    assert not set(usernames(first)) & set(usernames(second))
    assert "Page 1 of 2" in first.content.decode()
    assert 'page=2"' in first.content.decode()


def test_list_pagination_keeps_the_filters(alice_client, account_a):
    for n in range(30):
        make_staff(account_a, f"temp{n:02d}", groups=("Front Desk",))
    front_desk = group_id(account_a, "Front Desk")
    first = alice_client.get(staff_url(account_a), {"group": front_desk, "status": "all"})
    next_link = re.search(r'href="\?([^"]*page=2[^"]*)"', first.content.decode()).group(1)
    assert f"group={front_desk}" in next_link
    assert "status=all" in next_link


# --- inviting ------------------------------------------------------------------------------


def invite(client, account, capture, **fields):
    data = {
        "first_name": "Nia",
        "last_name": "Park",
        "username": "nia",
        "email": "nia@example.com",
        "title": "Coach",
        "groups": [group_id(account, "Front Desk")],
        **fields,
    }
    with capture(execute=True):
        return client.post(staff_url(account, "invite/"), data)


def test_invite_creates_a_login_without_a_usable_password(
    alice_client, account_a, django_capture_on_commit_callbacks
):
    created = entry_count(account_a, "staff.created")
    response = invite(alice_client, account_a, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    with activate_account(account_a):
        nia = User.objects.get(username="nia")
    assert response["Location"] == staff_url(account_a, f"{nia.pk}/")
    assert nia.kind == User.Kind.STAFF and nia.is_active
    assert not nia.has_usable_password()
    assert group_names(account_a, nia) == ["Front Desk"]
    assert entry_count(account_a, "staff.created") == created + 1
    assert entry_count(account_a, "staff.password_link_sent") == 1


def test_invite_emails_a_link_the_invitee_uses_to_set_a_password_and_log_in(
    alice_client, account_a, django_capture_on_commit_callbacks
):
    invite(alice_client, account_a, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nia@example.com"]
    assert "invited" in message.subject
    path = re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)
    invitee = Client()
    assert invitee.get(path).status_code == 200
    chosen = "Nia-Chose-This-91"
    response = invitee.post(path, {"new_password1": chosen, "new_password2": chosen})
    assert response.status_code == 302
    response = invitee.post(
        f"/{account_a.slug}/office/login/", {"username": "nia", "password": chosen}
    )
    assert response.status_code == 302
    assert invitee.get(f"/{account_a.slug}/office/").status_code == 200
    assert invitee.get(path).status_code == 400  # the link worked once


def test_invited_person_cannot_log_in_before_setting_a_password(
    alice_client, account_a, django_capture_on_commit_callbacks
):
    invite(alice_client, account_a, django_capture_on_commit_callbacks)
    for guess in ("", "!", PASSWORD):
        response = Client().post(
            f"/{account_a.slug}/office/login/", {"username": "nia", "password": guess}
        )
        assert response.status_code == 400


@pytest.mark.parametrize(
    "username",
    [
        "bob",
        "BOB",
    ],
)
def test_invite_with_a_username_in_use_is_a_field_error(
    alice_client, account_a, bob, username, django_capture_on_commit_callbacks
):
    users, created = User.everyone.count(), entry_count(account_a, "staff.created")
    response = invite(
        alice_client, account_a, django_capture_on_commit_callbacks, username=username
    )
    assert response.status_code == 400
    assert User.everyone.count() == users
    assert mail.outbox == []
    assert entry_count(account_a, "staff.created") == created
    assert "already in use here" in response.context["form"].errors["username"][0]


def test_invite_with_an_email_in_use_is_a_field_error(
    alice_client, account_a, bob, django_capture_on_commit_callbacks
):
    before = User.everyone.count()
    response = invite(
        alice_client, account_a, django_capture_on_commit_callbacks, email="BOB@alpha.example"
    )
    assert response.status_code == 400
    assert "already uses" in response.context["form"].errors["email"][0]
    assert User.everyone.count() == before
    assert mail.outbox == []


def test_invite_may_reuse_a_username_of_another_account(
    alice_client, account_a, charlie, django_capture_on_commit_callbacks
):
    response = invite(
        alice_client, account_a, django_capture_on_commit_callbacks, username="charlie"
    )
    assert response.status_code == 302
    with activate_account(account_a):
        assert User.objects.filter(username="charlie").exists()


def test_invite_with_missing_fields_shows_errors_and_creates_nothing(
    alice_client, account_a, django_capture_on_commit_callbacks
):
    before = User.everyone.count()
    response = invite(
        alice_client,
        account_a,
        django_capture_on_commit_callbacks,
        first_name="",
        email="not-an-email",
        username="has space",
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"first_name", "email", "username"}
    assert User.everyone.count() == before


# --- editing access -----------------------------------------------------------------------


def edit(client, account, person, **fields):
    data = {
        "first_name": person.first_name or "Someone",
        "last_name": person.last_name,
        "email": person.email,
        "title": person.title,
        "groups": [],
        "permissions": [],
        "locations": [],
        **fields,
    }
    return client.post(staff_url(account, f"{person.pk}/edit/"), data)


def test_edit_page_shows_the_current_access(alice_client, account_a, bob):
    response = alice_client.get(staff_url(account_a, f"{bob.pk}/edit/"))
    assert response.status_code == 200
    assert response.context["form"].initial["groups"] == [group_id(account_a, "Instructor")]


def test_edit_groups_advanced_permissions_and_locations(alice_client, account_a, location_a, bob):
    response = edit(
        alice_client,
        account_a,
        bob,
        title="Head coach",
        groups=[group_id(account_a, "Front Desk")],
        permissions=["audit.view"],
        locations=[location_a.pk],
    )
    assert response.status_code == 302
    bob = fresh(account_a, bob)
    assert bob.title == "Head coach"
    assert group_names(account_a, bob) == ["Front Desk"]
    with activate_account(account_a):
        assert list(
            PermissionGrant.objects.filter(user=bob).values_list("permission", flat=True)
        ) == ["audit.view"]
        assert list(LocationAccess.objects.filter(user=bob).values_list("location", flat=True)) == [
            location_a.pk
        ]
        perms = effective_permissions(bob)
    assert {"families.view", "payments.take", "audit.view"} <= perms
    assert "catalog.edit" not in perms


def test_edit_is_one_audit_entry_with_before_and_after(alice_client, account_a, alice, bob):
    edit(
        alice_client,
        account_a,
        bob,
        groups=[group_id(account_a, "Front Desk")],
        permissions=["audit.view"],
    )
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="staff.updated")
    assert entry.actor_id == alice.pk
    assert entry.object_id == str(bob.pk)
    assert entry.changes["groups"] == [["Instructor"], ["Front Desk"]]
    assert entry.changes["advanced_permissions"] == [[], ["audit.view"]]
    assert "locations" not in entry.changes  # unchanged fields are not listed


def test_detail_page_shows_effective_permissions(alice_client, account_a, location_a, bob):
    edit(
        alice_client,
        account_a,
        bob,
        groups=[group_id(account_a, "Instructor")],
        permissions=["audit.view"],
        locations=[location_a.pk],
    )
    response = alice_client.get(staff_url(account_a, f"{bob.pk}/"))
    assert response.status_code == 200
    effective = [p.code for p in response.context["effective"]]
    assert sorted(effective) == sorted(
        ["office.dashboard", "catalog.view", "attendance.take", "audit.view"]
    )
    html = response.content.decode()
    for label in ("Take attendance", "View audit log", location_a.name):
        assert label in html
    assert "Manage staff" not in html


def test_edit_with_a_taken_email_is_a_field_error(alice_client, account_a, alice, bob):
    response = edit(alice_client, account_a, bob, email="alice@alpha.example")
    assert response.status_code == 400
    assert "already uses" in response.context["form"].errors["email"][0]
    assert fresh(account_a, bob).email == "bob@alpha.example"


@pytest.fixture
def only_owner_and_a_staff_manager(account_a):
    """The account's first owner is the only Owner; mia manages staff but is no Owner."""
    mia = make_staff(account_a, "mia", groups=("Manager",), permission_codes=["staff.manage"])
    with activate_account(account_a):
        owner = User.objects.get(username="owner")
    return owner, mia


def test_removing_the_last_owner_from_the_owner_group_is_refused(
    client, account_a, only_owner_and_a_staff_manager
):
    owner, _mia = only_owner_and_a_staff_manager
    office_login(client, account_a, "mia")
    response = edit(
        client, account_a, owner, first_name="Olive", groups=[group_id(account_a, "Manager")]
    )
    assert response.status_code == 400
    assert "without an active Owner" in response.context["form"].errors["groups"][0]
    assert group_names(account_a, owner) == ["Owner"]
    assert fresh(account_a, owner).first_name == ""  # nothing half-written
    assert entry_count(account_a, "staff.updated") == 0


def test_deactivating_the_last_owner_is_refused(client, account_a, only_owner_and_a_staff_manager):
    owner, _mia = only_owner_and_a_staff_manager
    office_login(client, account_a, "mia")
    response = client.post(staff_url(account_a, f"{owner.pk}/deactivate/"), follow=True)
    assert any("last active Owner" in m for m in messages_of(response))
    assert fresh(account_a, owner).is_active is True
    assert entry_count(account_a, "staff.deactivated") == 0


def test_an_owner_may_be_removed_while_another_remains(alice_client, account_a, alice):
    with activate_account(account_a):
        owner = User.objects.get(username="owner")
    response = edit(
        alice_client, account_a, owner, first_name="Olive", groups=[group_id(account_a, "Manager")]
    )
    assert response.status_code == 302
    assert group_names(account_a, owner) == ["Manager"]


def test_editing_yourself_out_of_manage_staff_is_refused(alice_client, account_a, alice):
    response = edit(alice_client, account_a, alice, groups=[group_id(account_a, "Front Desk")])
    assert response.status_code == 400
    assert "your own “Manage staff” permission" in response.context["form"].errors["groups"][0]
    assert group_names(account_a, alice) == ["Owner"]
    assert entry_count(account_a, "staff.updated") == 0
    assert alice_client.get(staff_url(account_a)).status_code == 200


def test_editing_yourself_keeping_manage_staff_by_advanced_permission_is_allowed(
    alice_client, account_a, alice
):
    response = edit(
        alice_client,
        account_a,
        alice,
        groups=[group_id(account_a, "Front Desk")],
        permissions=["staff.manage"],
    )
    assert response.status_code == 302
    assert group_names(account_a, alice) == ["Front Desk"]
    assert alice_client.get(staff_url(account_a)).status_code == 200


# --- deactivating and reactivating ---------------------------------------------------------


def test_deactivate_asks_for_confirmation_first(alice_client, account_a, bob):
    response = alice_client.get(staff_url(account_a, f"{bob.pk}/deactivate/"))
    assert response.status_code == 200
    assert "Deactivate Bob?" in response.content.decode()
    assert fresh(account_a, bob).is_active is True


def test_deactivate_on_post(alice_client, account_a, alice, bob):
    response = alice_client.post(staff_url(account_a, f"{bob.pk}/deactivate/"))
    assert response.status_code == 302
    assert fresh(account_a, bob).is_active is False
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="staff.deactivated")
    assert entry.actor_id == alice.pk
    assert entry.changes == {"is_active": [True, False]}


def test_deactivated_persons_existing_session_stops_working(alice_client, account_a, bob):
    bobs = Client()
    office_login(bobs, account_a, "bob")
    assert bobs.get(f"/{account_a.slug}/office/").status_code == 200
    alice_client.post(staff_url(account_a, f"{bob.pk}/deactivate/"))
    response = bobs.get(f"/{account_a.slug}/office/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{account_a.slug}/office/login/")


def test_deactivated_person_keeps_their_name_in_history(alice_client, account_a, bob):
    alice_client.post(staff_url(account_a, f"{bob.pk}/deactivate/"))
    response = alice_client.get(staff_url(account_a, f"{bob.pk}/"))
    assert response.status_code == 200
    assert "Deactivated" in response.content.decode()
    with activate_account(account_a):
        assert User.objects.filter(pk=bob.pk).exists()  # never deleted


def test_you_cannot_deactivate_yourself(alice_client, account_a, alice):
    response = alice_client.post(staff_url(account_a, f"{alice.pk}/deactivate/"), follow=True)
    assert "You cannot deactivate your own login." in messages_of(response)
    assert fresh(account_a, alice).is_active is True
    assert alice_client.get(staff_url(account_a)).status_code == 200


def test_reactivate_asks_then_lets_the_person_log_in_again(alice_client, account_a, bob):
    alice_client.post(staff_url(account_a, f"{bob.pk}/deactivate/"))
    confirm = alice_client.get(staff_url(account_a, f"{bob.pk}/reactivate/"))
    assert confirm.status_code == 200
    assert "Reactivate Bob?" in confirm.content.decode()
    assert fresh(account_a, bob).is_active is False
    alice_client.post(staff_url(account_a, f"{bob.pk}/reactivate/"))
    assert fresh(account_a, bob).is_active is True
    assert entry_count(account_a, "staff.reactivated") == 1
    office_login(Client(), account_a, "bob")


# --- password link from the staff page, last log-in --------------------------------------


def test_manager_can_email_a_password_reset_link(
    alice_client, account_a, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(staff_url(account_a, f"{bob.pk}/password-link/"))
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["bob@alpha.example"]]
    assert "Reset" in mail.outbox[0].subject


def test_detail_shows_never_before_the_first_login(alice_client, account_a, bob):
    response = alice_client.get(staff_url(account_a, f"{bob.pk}/"))
    assert re.search(r"Last log-in</dt><dd[^>]*>Never<", response.content.decode())


def test_detail_shows_the_last_login(alice_client, account_a, bob):
    office_login(Client(), account_a, "bob")
    bob = fresh(account_a, bob)
    shown = dateformat.format(
        bob.last_login.astimezone(zoneinfo.ZoneInfo(account_a.timezone)), "M j, Y g:i A"
    )
    response = alice_client.get(staff_url(account_a, f"{bob.pk}/"))
    assert re.search(rf"Last log-in</dt><dd[^>]*>{re.escape(shown)}<", response.content.decode())


def test_staff_of_another_account_is_404(alice_client, account_a, charlie):
    assert alice_client.get(staff_url(account_a, f"{charlie.pk}/")).status_code == 404
    assert alice_client.post(staff_url(account_a, f"{charlie.pk}/deactivate/")).status_code == 404


def test_login_with_password_after_reactivation(account_a, alice, bob):
    with activate_account(account_a):
        staff_set_active(user=bob, by=alice, active=False)
        staff_set_active(user=bob, by=alice, active=True)
    client = Client()
    client.post(f"/{account_a.slug}/office/login/", {"username": "bob", "password": PASSWORD})
    assert client.session[SESSION_KEY] == str(bob.pk)
