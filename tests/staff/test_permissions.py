"""Effective permissions: groups ∪ Advanced Permissions, and what that opens."""

import pytest
from django.test import Client

from classbook.accounts.models import User
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import activate_account
from classbook.staff import permissions as perms
from classbook.staff.models import GroupMembership, PermissionGrant, UserGroup
from classbook.staff.selectors import effective_permissions
from classbook.staff.services import group_save, staff_set_active, staff_update
from tests.conftest import make_staff, office_login


def perms_of(account, user) -> frozenset[str]:
    with activate_account(account):
        return effective_permissions(User.objects.get(pk=user.pk))


def group_perms(account, name) -> set[str]:
    with activate_account(account):
        return set(UserGroup.objects.get(name=name).permissions)


def set_grants(account, user, codes, *, by):
    with activate_account(account):
        group_ids = list(
            UserGroup.objects.filter(memberships__user=user).values_list("pk", flat=True)
        )
        staff_update(
            user=user,
            by=by,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            title=user.title,
            group_ids=group_ids,
            permission_codes=codes,
            location_ids=[],
        )


# --- the union ---------------------------------------------------------------------------


def test_one_group_gives_exactly_its_permissions(account_a, bob):
    assert perms_of(account_a, bob) == frozenset(group_perms(account_a, "Instructor"))


def test_several_groups_give_their_union(account_a):
    eli = make_staff(account_a, "eli", groups=("Instructor", "Front Desk"))
    expected = group_perms(account_a, "Instructor") | group_perms(account_a, "Front Desk")
    assert perms_of(account_a, eli) == frozenset(expected)


def test_advanced_permissions_add_to_the_groups(account_a):
    gina = make_staff(
        account_a, "gina", groups=("Instructor",), permission_codes=["ledger.view", "data.export"]
    )
    expected = group_perms(account_a, "Instructor") | {"ledger.view", "data.export"}
    assert perms_of(account_a, gina) == frozenset(expected)


def test_advanced_permissions_alone(account_a):
    hal = make_staff(account_a, "hal", permission_codes=["reports.view"])
    assert perms_of(account_a, hal) == frozenset({"reports.view"})


def test_no_group_and_no_advanced_permission_gives_nothing(account_a):
    assert perms_of(account_a, make_staff(account_a, "ivy")) == frozenset()


def test_owner_has_every_permission(account_a, alice):
    assert perms_of(account_a, alice) == frozenset(perms.CATALOGUE)


def test_deactivated_person_has_no_permissions(account_a, alice, bob):
    with activate_account(account_a):
        staff_set_active(user=bob, by=alice, active=False)
    assert perms_of(account_a, bob) == frozenset()


def test_codes_no_longer_in_the_catalogue_give_nothing(account_a):
    jo = make_staff(account_a, "jo")
    with activate_account(account_a):
        group = group_save(name="Legacy", permission_codes=["families.view"])
        UserGroup.objects.filter(pk=group.pk).update(permissions=["families.view", "gone.away"])
        PermissionGrant.objects.create(user=jo, permission="also.gone")
        GroupMembership.objects.create(user=jo, group=group)
    assert perms_of(account_a, jo) == frozenset({"families.view"})


def test_unknown_advanced_permission_is_refused(account_a, alice, bob):
    with pytest.raises(ValidationFailed, match="Unknown permission"):
        set_grants(account_a, bob, ["launch.rockets"], by=alice)
    with activate_account(account_a):
        assert not PermissionGrant.objects.filter(user=bob).exists()


def test_catalogue_lists_the_issue_permissions_by_area():
    labels = {p.label for p in perms.CATALOGUE.values()}
    for label in (
        "View families",
        "Edit families",
        "View ledger",
        "Take payments",
        "Refund and void payments",
        "Post charges and credits",
        "Run billing",
        "Edit classes and camps",
        "Enroll and drop",
        "Take attendance",
        "Send email messages",
        "View reports",
        "Export data",
        "Manage staff",
        "View audit log",
    ):
        assert label in labels
    areas = dict(perms.by_area())
    assert perms.MANAGE_STAFF in areas["Administration"]
    assert perms.TAKE_PAYMENTS in areas["Money"]


def test_a_permission_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        perms.register("staff.manage", "Manage staff again", "Administration")


# --- what an Advanced Permission opens ------------------------------------------------------


def test_instructor_cannot_open_the_audit_log(client, account_a, bob):
    office_login(client, account_a, "bob")
    response = client.get(f"/{account_a.slug}/office/audit/")
    assert response.status_code == 403
    assert "View audit log" in response.content.decode()


def test_an_advanced_permission_alone_opens_the_matching_page(client, account_a, alice, bob):
    set_grants(account_a, bob, ["audit.view"], by=alice)
    office_login(client, account_a, "bob")
    assert client.get(f"/{account_a.slug}/office/audit/").status_code == 200
    # ... and nothing else it does not name.
    assert client.get(f"/{account_a.slug}/office/staff/").status_code == 403


def test_the_menu_shows_the_page_the_permission_opens(client, account_a, alice, bob):
    office_login(client, account_a, "bob")
    assert "Audit log" not in client.get(f"/{account_a.slug}/office/").content.decode()
    set_grants(account_a, bob, ["audit.view"], by=alice)
    assert "Audit log" in client.get(f"/{account_a.slug}/office/").content.decode()


def test_removing_the_advanced_permission_closes_the_page(client, account_a, alice, bob):
    set_grants(account_a, bob, ["audit.view"], by=alice)
    office_login(client, account_a, "bob")
    assert client.get(f"/{account_a.slug}/office/audit/").status_code == 200
    set_grants(account_a, bob, [], by=alice)
    response = client.get(f"/{account_a.slug}/office/audit/")  # same session
    assert response.status_code == 403
    assert "View audit log" in response.content.decode()


def test_removing_it_on_the_edit_page_closes_the_page(client, account_a, alice, bob):
    set_grants(account_a, bob, ["audit.view"], by=alice)
    bobs = Client()
    office_login(bobs, account_a, "bob")
    office_login(client, account_a, "alice")
    with activate_account(account_a):
        instructor = UserGroup.objects.get(name="Instructor").pk
    client.post(
        f"/{account_a.slug}/office/staff/{bob.pk}/edit/",
        {"first_name": "Bob", "email": bob.email, "groups": [instructor], "permissions": []},
    )
    response = bobs.get(f"/{account_a.slug}/office/audit/")
    assert response.status_code == 403
    assert "View audit log" in response.content.decode()


def test_group_permission_opens_the_page_for_every_member(client, account_a):
    make_staff(account_a, "kim", groups=("Manager",))
    office_login(client, account_a, "kim")
    assert client.get(f"/{account_a.slug}/office/audit/").status_code == 200
    assert client.get(f"/{account_a.slug}/office/staff/").status_code == 403
    assert client.get(f"/{account_a.slug}/office/settings/locations/").status_code == 403
