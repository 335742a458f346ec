"""Reads about staff: effective permissions, location limits, lists."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from classbook.accounts.models import Location, User
from classbook.staff.models import (
    GroupMembership,
    LocationAccess,
    PermissionGrant,
    SecurityPolicy,
    SupportVisit,
    UserGroup,
)
from classbook.staff.permissions import CATALOGUE, Permission

_CACHE_ATTR = "_classbook_permissions"


def effective_permissions(user: User) -> frozenset[str]:
    """The union of the person's groups and Advanced Permissions (cached on the object)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not user.is_active or user.kind != User.Kind.STAFF:
        codes: frozenset[str] = frozenset()
    else:
        groups = list(
            UserGroup.objects.filter(memberships__user=user).values_list("is_owner", "permissions")
        )
        if any(is_owner for is_owner, _ in groups):
            codes = frozenset(CATALOGUE)
        else:
            granted = set(
                PermissionGrant.objects.filter(user=user).values_list("permission", flat=True)
            )
            for _, perms in groups:
                granted.update(perms)
            codes = frozenset(granted & set(CATALOGUE))
    setattr(user, _CACHE_ATTR, codes)
    return codes


def has_permission(user: User, permission: Permission) -> bool:
    return permission.code in effective_permissions(user)


def is_owner(user: User) -> bool:
    return GroupMembership.objects.filter(user=user, group__is_owner=True).exists()


def allowed_location_ids(user: User) -> set[int] | None:
    """None when the person may work at every location."""
    ids = set(LocationAccess.objects.filter(user=user).values_list("location_id", flat=True))
    return ids or None


def locations_for(user: User) -> QuerySet[Location]:
    allowed = allowed_location_ids(user)
    queryset = Location.objects.filter(is_active=True)
    return queryset if allowed is None else queryset.filter(pk__in=allowed)


def security_policy() -> SecurityPolicy:
    return SecurityPolicy.objects.first() or SecurityPolicy()


def staff_directory(
    *, search: str = "", group_id: int | None = None, status: str = "active"
) -> QuerySet[User]:
    queryset = User.objects.filter(kind=User.Kind.STAFF).prefetch_related(
        Prefetch("group_memberships", queryset=GroupMembership.objects.select_related("group"))
    )
    if status == "active":
        queryset = queryset.filter(is_active=True)
    elif status == "inactive":
        queryset = queryset.filter(is_active=False)
    if search:
        queryset = queryset.filter(
            Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(username__icontains=search)
            | Q(email__icontains=search)
        )
    if group_id:
        queryset = queryset.filter(
            Exists(GroupMembership.objects.filter(user=OuterRef("pk"), group_id=group_id))
        )
    return queryset.order_by("first_name", "last_name", "username")


def groups_with_counts() -> QuerySet[UserGroup]:
    return UserGroup.objects.annotate(
        member_count=Count("memberships", filter=Q(memberships__user__is_active=True))
    )


def active_owner_count(*, excluding_user: User | None = None) -> int:
    queryset = GroupMembership.objects.filter(group__is_owner=True, user__is_active=True)
    if excluding_user is not None:
        queryset = queryset.exclude(user=excluding_user)
    return queryset.values("user").distinct().count()


def open_support_visit(visit_id: int) -> SupportVisit | None:
    return (
        SupportVisit.objects.select_related("operator", "acting_as")
        .filter(pk=visit_id, ended_at__isnull=True)
        .first()
    )
