"""User Groups: seeded per account, created, edited and deleted by people who manage staff."""

import pytest

from classbook.accounts.models import User
from classbook.audit.models import LogEntry
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import activate_account
from classbook.staff import permissions as perms
from classbook.staff.models import PermissionGrant, UserGroup
from classbook.staff.provisioning import DEFAULT_GROUPS
from classbook.staff.selectors import effective_permissions
from classbook.staff.services import group_delete, group_save
from tests.conftest import make_account, make_staff, office_login


def groups_url(account, rest: str = "") -> str:
    return f"/{account.slug}/office/staff/groups/{rest}"


def group(account, name: str) -> UserGroup:
    with activate_account(account):
        return UserGroup.objects.get(name=name)


def group_names(account) -> set[str]:
    with activate_account(account):
        return set(UserGroup.objects.values_list("name", flat=True))


def perms_of(account, user) -> frozenset[str]:
    with activate_account(account):
        return effective_permissions(User.objects.get(pk=user.pk))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def alice_client(client, account_a, alice):
    office_login(client, account_a, "alice")
    return client


# --- seeded groups -----------------------------------------------------------------------


def test_a_new_account_has_the_four_seeded_groups(db):
    account = make_account("echo", "Echo Arts")
    assert group_names(account) == {"Owner", "Manager", "Front Desk", "Instructor"}
    owner = group(account, "Owner")
    assert owner.is_owner and owner.permissions == []
    for name, (_, granted) in DEFAULT_GROUPS.items():
        assert sorted(group(account, name).permissions) == sorted(p.code for p in granted)


def test_seeded_groups_differ_in_rights(account_a):
    manager = set(group(account_a, "Manager").permissions)
    front_desk = set(group(account_a, "Front Desk").permissions)
    instructor = set(group(account_a, "Instructor").permissions)
    assert instructor < front_desk < manager
    assert perms.MANAGE_STAFF.code not in manager


def test_each_account_has_its_own_groups(account_a, account_b):
    assert group(account_a, "Owner").pk != group(account_b, "Owner").pk
    with activate_account(account_a):
        group_save(name="Weekend crew", permission_codes=["families.view"])
    assert "Weekend crew" in group_names(account_a)
    assert "Weekend crew" not in group_names(account_b)


def test_group_list_page(alice_client, account_a, bob):
    response = alice_client.get(groups_url(account_a))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Owner", "Manager", "Front Desk", "Instructor"):
        assert name in html
    counts = {g.name: g.member_count for g in response.context["groups"]}
    assert counts["Owner"] == 2  # the first owner and alice
    assert counts["Instructor"] == 1


# --- create / edit / delete -----------------------------------------------------------------


def test_create_a_group(alice_client, account_a, alice):
    response = alice_client.post(
        groups_url(account_a, "new/"),
        {
            "name": "Weekend crew",
            "description": "Saturday desk",
            "permissions": ["families.view", "catalog.view"],
        },
    )
    assert response.status_code == 302
    created = group(account_a, "Weekend crew")
    assert created.description == "Saturday desk"
    assert sorted(created.permissions) == ["catalog.view", "families.view"]
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="group.created")
    assert entry.actor_id == alice.pk
    assert entry.object_id == str(created.pk)


def test_create_with_an_unknown_permission_is_refused(alice_client, account_a):
    response = alice_client.post(
        groups_url(account_a, "new/"), {"name": "Odd", "permissions": ["launch.rockets"]}
    )
    assert response.status_code == 400
    assert "permissions" in response.context["form"].errors
    assert "Odd" not in group_names(account_a)


@pytest.mark.parametrize("name", ["Front Desk", "front desk", "  FRONT DESK "])
def test_duplicate_group_name_is_refused(alice_client, account_a, name):
    before = group_names(account_a)
    response = alice_client.post(groups_url(account_a, "new/"), {"name": name})
    assert response.status_code == 400
    assert "already a group named" in response.context["form"].errors["name"][0]
    assert group_names(account_a) == before


def test_renaming_onto_another_groups_name_is_refused(alice_client, account_a):
    instructor = group(account_a, "Instructor")
    response = alice_client.post(
        groups_url(account_a, f"{instructor.pk}/edit/"),
        {"name": "Manager", "permissions": instructor.permissions},
    )
    assert response.status_code == 400
    assert group(account_a, "Instructor").pk == instructor.pk


def test_edit_a_group_changes_its_members_rights(alice_client, account_a, bob):
    assert "families.view" not in perms_of(account_a, bob)
    instructor = group(account_a, "Instructor")
    response = alice_client.post(
        groups_url(account_a, f"{instructor.pk}/edit/"),
        {
            "name": "Coaches",
            "description": "",
            "permissions": ["office.dashboard", "catalog.view", "families.view"],
        },
    )
    assert response.status_code == 302
    edited = group(account_a, "Coaches")
    assert edited.pk == instructor.pk
    assert "families.view" in perms_of(account_a, bob)
    assert "attendance.take" not in perms_of(account_a, bob)
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="group.updated")
    assert entry.changes["name"] == ["Instructor", "Coaches"]


def test_delete_asks_for_confirmation_first(alice_client, account_a, bob):
    instructor = group(account_a, "Instructor")
    response = alice_client.get(groups_url(account_a, f"{instructor.pk}/delete/"))
    assert response.status_code == 200
    assert [m.username for m in response.context["members"]] == ["bob"]
    assert "Instructor" in group_names(account_a)


def test_delete_a_group(alice_client, account_a, bob):
    instructor = group(account_a, "Instructor")
    response = alice_client.post(groups_url(account_a, f"{instructor.pk}/delete/"))
    assert response.status_code == 302
    assert "Instructor" not in group_names(account_a)
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="group.deleted")
    assert entry.object_label == "Instructor"
    assert entry.changes == {"members": [["bob"], []]}


def test_deleting_a_group_removes_the_rights_it_gave(alice_client, account_a, bob):
    assert "attendance.take" in perms_of(account_a, bob)
    alice_client.post(groups_url(account_a, f"{group(account_a, 'Instructor').pk}/delete/"))
    assert perms_of(account_a, bob) == frozenset()
    bobs = type(alice_client)()
    office_login(bobs, account_a, "bob")
    assert bobs.get(f"/{account_a.slug}/office/").status_code == 403


def test_deleting_a_group_keeps_advanced_permissions(account_a, bob):
    with activate_account(account_a):
        PermissionGrant.objects.create(user=bob, permission="families.view")
        group_delete(group=UserGroup.objects.get(name="Instructor"))
    assert perms_of(account_a, bob) == frozenset({"families.view"})


# --- the Owner group ---------------------------------------------------------------------------


def test_owner_group_cannot_be_deleted(alice_client, account_a, alice):
    owner = group(account_a, "Owner")
    response = alice_client.post(groups_url(account_a, f"{owner.pk}/delete/"), follow=True)
    assert "The Owner group cannot be deleted." in messages_of(response)
    assert "Owner" in group_names(account_a)
    assert perms_of(account_a, alice) == frozenset(perms.CATALOGUE)


def test_owner_group_cannot_be_deleted_by_the_service(account_a):
    with activate_account(account_a), pytest.raises(ValidationFailed, match="cannot be deleted"):
        group_delete(group=UserGroup.objects.get(is_owner=True))


def test_owner_group_permissions_cannot_be_edited_on_the_page(alice_client, account_a, alice):
    owner = group(account_a, "Owner")
    page = alice_client.get(groups_url(account_a, f"{owner.pk}/edit/"))
    assert page.context["form"].fields["permissions"].disabled
    alice_client.post(
        groups_url(account_a, f"{owner.pk}/edit/"),
        {"name": "Owner", "description": "x", "permissions": ["families.view"]},
    )
    assert group(account_a, "Owner").permissions == []
    assert perms_of(account_a, alice) == frozenset(perms.CATALOGUE)


def test_owner_group_permissions_cannot_be_edited_by_the_service(account_a):
    with (
        activate_account(account_a),
        pytest.raises(ValidationFailed, match="always has every permission"),
    ):
        owner = UserGroup.objects.get(is_owner=True)
        group_save(group=owner, name="Owner", permission_codes=["families.view"])
    assert group(account_a, "Owner").permissions == []


def test_owner_group_has_permissions_added_later(account_a, alice):
    """The Owner group is not a list: a permission registered later is included."""
    late = perms.Permission(code="late.feature", label="A later feature", area="Later")
    perms.CATALOGUE[late.code] = late
    try:
        assert "late.feature" in perms_of(account_a, alice)
    finally:
        del perms.CATALOGUE[late.code]


# --- who may manage groups ----------------------------------------------------------------------


def test_staff_without_manage_staff_cannot_create_groups(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = client.post(groups_url(account_a, "new/"), {"name": "Sneaky"})
    assert response.status_code == 403
    assert "Manage staff" in response.content.decode()
    assert "Sneaky" not in group_names(account_a)


def test_another_accounts_group_is_404(alice_client, account_a, account_b):
    theirs = group(account_b, "Manager")
    assert alice_client.get(groups_url(account_a, f"{theirs.pk}/edit/")).status_code == 404
    assert alice_client.post(groups_url(account_a, f"{theirs.pk}/delete/")).status_code == 404
    assert "Manager" in group_names(account_b)


def test_front_desk_member_added_via_make_staff_gets_front_desk_rights(account_a):
    dana = make_staff(account_a, "dana", groups=("Front Desk",))
    assert perms_of(account_a, dana) == frozenset(group(account_a, "Front Desk").permissions)


# --- who may hand out Owner rights ---------------------------------------------------------------


@pytest.fixture
def mia_client(client, account_a):
    """mia manages staff (an Advanced Permission) but is not an Owner."""
    make_staff(account_a, "mia", groups=("Front Desk",), permission_codes=["staff.manage"])
    office_login(client, account_a, "mia")
    return client


def test_a_non_owner_cannot_make_themselves_an_owner(mia_client, account_a):
    with activate_account(account_a):
        mia = User.objects.get(username="mia")
    mia_client.post(
        f"/{account_a.slug}/office/staff/{mia.pk}/edit/",
        {
            "first_name": "Mia",
            "email": mia.email,
            "groups": [group(account_a, "Owner").pk, group(account_a, "Front Desk").pk],
            "permissions": ["staff.manage"],
        },
    )
    with activate_account(account_a):
        mine = set(UserGroup.objects.filter(memberships__user=mia).values_list("name", flat=True))
    assert "Owner" not in mine
    assert "settings.manage" not in perms_of(account_a, mia)


def test_a_non_owner_cannot_edit_user_groups(mia_client, account_a):
    front_desk = group(account_a, "Front Desk")
    response = mia_client.post(
        groups_url(account_a, f"{front_desk.pk}/edit/"),
        {"name": "Front Desk", "permissions": [*front_desk.permissions, "settings.manage"]},
    )
    assert response.status_code == 403
    assert "settings.manage" not in group(account_a, "Front Desk").permissions
