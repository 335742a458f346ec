"""Writes about staff: logins, groups, Advanced Permissions, location limits, visits.

Every public function here writes exactly one audit entry in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import transaction

from classbook.accounts.models import Location, User
from classbook.audit.actions import register_action
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.core import clock
from classbook.core.errors import ValidationFailed, validated
from classbook.core.tenancy import require_account
from classbook.staff import permissions as perms
from classbook.staff.models import (
    GroupMembership,
    LocationAccess,
    PermissionGrant,
    SecurityPolicy,
    SupportVisit,
    UserGroup,
)
from classbook.staff.passwords import remember_current_password
from classbook.staff.provisioning import check_password_rules, insert_staff_user
from classbook.staff.selectors import active_owner_count, effective_permissions, is_owner

STAFF_CREATED = register_action("staff.created", "Staff login created")
STAFF_UPDATED = register_action("staff.updated", "Staff member changed")
STAFF_DEACTIVATED = register_action("staff.deactivated", "Staff login deactivated")
STAFF_REACTIVATED = register_action("staff.reactivated", "Staff login reactivated")
PASSWORD_CHANGED = register_action("staff.password_changed", "Password changed")
PASSWORD_LINK_SENT = register_action("staff.password_link_sent", "Password link emailed")
PASSWORD_SET = register_action("staff.password_set", "Password set from emailed link")
TWO_FACTOR_ENABLED = register_action("staff.two_factor_enabled", "Two-factor turned on")
TWO_FACTOR_REMOVED = register_action("staff.two_factor_removed", "Two-factor device removed")
LOGGED_IN = register_action("auth.logged_in", "Logged in")
GROUP_CREATED = register_action("group.created", "User Group created")
GROUP_UPDATED = register_action("group.updated", "User Group changed")
GROUP_DELETED = register_action("group.deleted", "User Group deleted")
POLICY_CHANGED = register_action("security.policy_changed", "Log-in rules changed")
VISIT_STARTED = register_action("support.visit_started", "Classbook support entered the office")
VISIT_ENDED = register_action("support.visit_ended", "Classbook support left the office")


def _set_groups(user: User, group_ids: Iterable[int]) -> list[str]:
    groups = list(UserGroup.objects.filter(pk__in=set(group_ids)))
    GroupMembership.objects.filter(user=user).exclude(group__in=groups).delete()
    for group in groups:
        GroupMembership.objects.get_or_create(user=user, group=group)
    return sorted(g.name for g in groups)


def _set_grants(user: User, codes: Iterable[str]) -> list[str]:
    wanted = set(codes)
    unknown = wanted - set(perms.CATALOGUE)
    if unknown:
        raise ValidationFailed({"permissions": [f"Unknown permission: {', '.join(unknown)}"]})
    PermissionGrant.objects.filter(user=user).exclude(permission__in=wanted).delete()
    for code in wanted:
        PermissionGrant.objects.get_or_create(user=user, permission=code)
    return sorted(wanted)


def _set_locations(user: User, location_ids: Iterable[int]) -> list[str]:
    locations = list(Location.objects.filter(pk__in=set(location_ids)))
    LocationAccess.objects.filter(user=user).exclude(location__in=locations).delete()
    for location in locations:
        LocationAccess.objects.get_or_create(user=user, location=location)
    return sorted(loc.name for loc in locations)


def _access_snapshot(user: User) -> dict[str, list[str]]:
    return {
        "groups": sorted(
            UserGroup.objects.filter(memberships__user=user).values_list("name", flat=True)
        ),
        "advanced_permissions": sorted(
            PermissionGrant.objects.filter(user=user).values_list("permission", flat=True)
        ),
        "locations": sorted(
            Location.objects.filter(
                pk__in=LocationAccess.objects.filter(user=user).values("location")
            ).values_list("name", flat=True)
        ),
    }


@transaction.atomic
def staff_create(
    *,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    password: str | None = None,
    group_ids: Iterable[int] = (),
    permission_codes: Iterable[str] = (),
    location_ids: Iterable[int] = (),
    must_change_password: bool = False,
) -> User:
    """A new staff login. Without a password it is an invitation (see staff_send_password_link)."""
    user = insert_staff_user(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        title=title,
        must_change_password=must_change_password,
    )
    access = {
        "groups": _set_groups(user, group_ids),
        "advanced_permissions": _set_grants(user, permission_codes),
        "locations": _set_locations(user, location_ids),
    }
    log_action(
        action=STAFF_CREATED,
        obj=user,
        changes=created_fields(
            {
                "username": user.username,
                "email": user.email,
                "name": user.get_full_name(),
                "title": user.title,
                **access,
            }
        ),
    )
    return user


PROFILE_FIELDS = ("first_name", "last_name", "email", "title")


@transaction.atomic
def staff_update(
    *,
    user: User,
    by: User,
    first_name: str,
    last_name: str,
    email: str,
    title: str,
    group_ids: Iterable[int],
    permission_codes: Iterable[str],
    location_ids: Iterable[int],
) -> User:
    """Change a staff member's profile and access in one step (one audit entry)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    by_is_owner = is_owner(by)  # before this change: nobody promotes themselves
    before = {**snapshot(user, PROFILE_FIELDS), **_access_snapshot(user)}
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.email, user.title = email.strip().lower(), title.strip()
    validated(user, exclude=["password"])
    if (
        user.email
        and User.objects.filter(kind=User.Kind.STAFF, email__iexact=user.email)
        .exclude(pk=user.pk)
        .exists()
    ):
        raise ValidationFailed({"email": [f"Another staff login already uses {user.email}."]})
    user.save(update_fields=list(PROFILE_FIELDS))
    after = {
        **snapshot(user, PROFILE_FIELDS),
        "groups": _set_groups(user, group_ids),
        "advanced_permissions": _set_grants(user, permission_codes),
        "locations": _set_locations(user, location_ids),
    }
    if user.is_active and active_owner_count() == 0:
        raise ValidationFailed(
            {
                "groups": [
                    "This would leave the business without an active Owner. Make someone else an "
                    "Owner first."
                ]
            }
        )
    if ("Owner" in before["groups"]) != ("Owner" in after["groups"]) and not by_is_owner:
        raise ValidationFailed(
            {"groups": ["Only an Owner can make someone an Owner or remove an Owner."]}
        )
    if user.pk == by.pk:
        user.__dict__.pop("_classbook_permissions", None)
        if perms.MANAGE_STAFF.code not in effective_permissions(user):
            raise ValidationFailed(
                {
                    "groups": [
                        "You cannot remove your own “Manage staff” permission; ask another person "
                        "who manages staff."
                    ]
                }
            )
    log_action(action=STAFF_UPDATED, obj=user, changes=changes_between(before, after))
    return user


@transaction.atomic
def staff_set_active(*, user: User, by: User, active: bool) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == active:
        return user
    if not active:
        if user.pk == by.pk:
            raise ValidationFailed("You cannot deactivate your own login.")
        if active_owner_count(excluding_user=user) == 0:
            raise ValidationFailed(
                "This is the last active Owner; make someone else an "
                "Owner before deactivating this login."
            )
    user.is_active = active
    user.save(update_fields=["is_active"])
    log_action(
        action=STAFF_REACTIVATED if active else STAFF_DEACTIVATED,
        obj=user,
        changes={"is_active": [not active, active]},
    )
    return user


@transaction.atomic
def staff_password_change(*, user: User, new_password: str) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    check_password_rules(new_password, user)
    remember_current_password(user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_history", "must_change_password"])
    log_action(action=PASSWORD_CHANGED, obj=user, changes={"password": ["", ""]})
    return user


@transaction.atomic
def staff_password_set_from_link(*, user: User, new_password: str) -> User:
    """Set the password from an emailed link (reset or invitation)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    check_password_rules(new_password, user)
    remember_current_password(user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_history", "must_change_password"])
    log_action(action=PASSWORD_SET, obj=user, changes={"password": ["", ""]})
    return user


@transaction.atomic
def staff_send_password_link(*, user: User, link: str, invitation: bool) -> None:
    """Email a link to set a password (an invitation or a reset)."""
    account = require_account()
    if invitation:
        subject = f"You are invited to {account.name} on Classbook"
        body = (
            f"Hello {user.get_short_name()},\n\n{account.name} has created a staff login "
            f"for you (username: {user.username}). Choose your password here:\n\n{link}\n\n"
            "The link works once and expires in 3 days."
        )
    else:
        subject = f"Reset your {account.name} password"
        body = (
            f"Hello {user.get_short_name()},\n\nSomeone asked to reset the password of "
            f"the staff login “{user.username}”. If it was you, choose a new one here:"
            f"\n\n{link}\n\nThe link works once and expires in 3 days. If it was not "
            "you, ignore this email."
        )
    recipient = user.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [recipient]))
    log_action(
        action=PASSWORD_LINK_SENT,
        obj=user,
        changes={"kind": [None, "invitation" if invitation else "reset"]},
    )


@transaction.atomic
def staff_login_record(*, user: User) -> None:
    user.last_login = clock.now()
    user.save(update_fields=["last_login"])
    log_action(action=LOGGED_IN, obj=user)


@transaction.atomic
def two_factor_confirm(*, user: User, device) -> None:
    """Keep a TOTP device that the person proved they can read; drop any others."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    log_action(action=TWO_FACTOR_ENABLED, obj=user)


@transaction.atomic
def two_factor_remove(*, user: User) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=user).delete()
    log_action(action=TWO_FACTOR_REMOVED, obj=user)


@transaction.atomic
def group_save(
    *,
    group: UserGroup | None = None,
    name: str,
    description: str = "",
    permission_codes: Iterable[str] = (),
) -> UserGroup:
    codes = sorted(set(permission_codes))
    unknown = set(codes) - set(perms.CATALOGUE)
    if unknown:
        raise ValidationFailed({"permissions": [f"Unknown permission: {', '.join(unknown)}"]})
    creating = group is None
    group = group or UserGroup()
    if group.is_owner and codes != group.permissions:
        raise ValidationFailed({"permissions": ["The Owner group always has every permission."]})
    before = snapshot(group, ("name", "description", "permissions"))
    group.name, group.description = name.strip(), description.strip()
    if not group.is_owner:
        group.permissions = codes
    validated(group, exclude=["account"])
    if UserGroup.objects.filter(name__iexact=group.name).exclude(pk=group.pk).exists():
        raise ValidationFailed({"name": [f"There is already a group named “{group.name}”."]})
    group.save()
    after = snapshot(group, ("name", "description", "permissions"))
    log_action(
        action=GROUP_CREATED if creating else GROUP_UPDATED,
        obj=group,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return group


@transaction.atomic
def group_delete(*, group: UserGroup) -> None:
    if group.is_owner:
        raise ValidationFailed("The Owner group cannot be deleted.")
    members = list(group.memberships.values_list("user__username", flat=True))
    label = str(group)
    log_action(
        action=GROUP_DELETED, obj=group, label=label, changes={"members": [sorted(members), []]}
    )
    group.delete()


@transaction.atomic
def security_policy_update(*, require_two_factor: bool) -> SecurityPolicy:
    policy = SecurityPolicy.objects.select_for_update().first() or SecurityPolicy()
    before = snapshot(policy, ("require_two_factor",))
    policy.require_two_factor = require_two_factor
    policy.updated_at = clock.now()
    policy.save()
    log_action(
        action=POLICY_CHANGED,
        obj=policy,
        label="Log-in rules",
        changes=changes_between(before, snapshot(policy, ("require_two_factor",))),
    )
    return policy


@transaction.atomic
def support_visit_start(*, operator: User, acting_as: User, reason: str) -> SupportVisit:
    reason = reason.strip()
    if len(reason) < 10:
        raise ValidationFailed(
            {
                "reason": [
                    "Say why you are entering this business's office (at least 10 characters); "
                    "the owner will read it in the audit log."
                ]
            }
        )
    if not operator.is_platform_operator:
        raise ValidationFailed("Only platform operators can start a support visit.")
    if acting_as.kind != User.Kind.STAFF or not acting_as.is_active:
        raise ValidationFailed({"acting_as": ["Choose an active staff login of this business."]})
    visit = SupportVisit.objects.create(operator=operator, acting_as=acting_as, reason=reason)
    log_action(
        action=VISIT_STARTED,
        obj=visit,
        changes=created_fields(
            {"operator": str(operator), "acting_as": str(acting_as), "reason": reason}
        ),
    )
    return visit


@transaction.atomic
def support_visit_end(*, visit: SupportVisit) -> SupportVisit:
    visit = SupportVisit.objects.select_for_update().get(pk=visit.pk)
    if visit.ended_at is None:
        visit.ended_at = clock.now()
        visit.save(update_fields=["ended_at"])
        log_action(action=VISIT_ENDED, obj=visit)
    return visit
