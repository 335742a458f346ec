"""Who on a business's staff may do what, and where."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from classbook.core.tenancy import TenantModel


class UserGroup(TenantModel):
    """A job-level set of permissions (Front Desk, Instructor, ...). Owner has everything,
    including permissions added by later releases."""

    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    is_owner = models.BooleanField(default=False, editable=False)
    permissions = models.JSONField(default=list, blank=True)  # permission codes
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_owner", "name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="usergroup_name_unique"),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_owner=True), name="usergroup_one_owner_group"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GroupMembership(TenantModel):
    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="group_memberships"
    )
    group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "group"], name="groupmembership_unique")
        ]


class PermissionGrant(TenantModel):
    """An Advanced Permission: one extra right for one person, on top of their groups."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="permission_grants"
    )
    permission = models.CharField(max_length=80)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "permission"], name="permissiongrant_unique")
        ]


class LocationAccess(TenantModel):
    """Limits a staff member to some locations; a person with no rows sees all."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="location_accesses"
    )
    location = models.ForeignKey("accounts.Location", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "location"], name="locationaccess_unique")
        ]


class SecurityPolicy(TenantModel):
    """Per-account log-in rules set by the owner."""

    require_two_factor = models.BooleanField(
        "Require two-factor authentication for all staff", default=False
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account"], name="securitypolicy_one_per_account")
        ]


class SupportVisit(TenantModel):
    """A platform operator inside this account's office, with a stated reason."""

    operator = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    acting_as = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Support visit by {self.operator} ({self.started_at:%Y-%m-%d %H:%M})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None
