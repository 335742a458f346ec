"""The audit log: append-only, one entry per change, in the same transaction."""

from django.db import models
from django.utils import timezone

from classbook.core.append_only import AppendOnlyQuerySet
from classbook.core.tenancy import TenantModel


class LogEntry(TenantModel):
    """Who did what, when, from where, and what changed. Never edited, never deleted.

    On PostgreSQL a trigger rejects UPDATE and DELETE (core.rls); in Python, save() of an
    existing row, delete() and queryset update()/delete() raise.
    """

    classbook_append_only = True  # read by classbook.core.rls

    class ActorKind(models.TextChoices):
        STAFF = "staff", "Staff"
        GUARDIAN = "guardian", "Guardian"
        PLATFORM = "platform", "Platform operator"
        SYSTEM = "system", "System task"
        API = "api", "API token"

    created_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=20, choices=ActorKind)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200)
    impersonator = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    impersonator_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_scoped_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="audit_account_time"),
            # Each filter's index ends in the page's whole order (time, then id), so the
            # first page is read from the index and stops after 51 rows, even on SQLite
            # without statistics (docs/decisions.md, "Office pages on a big account").
            models.Index(
                fields=["account", "actor", "-created_at", "-id"], name="audit_actor_recent"
            ),
            models.Index(
                fields=["account", "action", "-created_at", "-id"], name="audit_action_recent"
            ),
            models.Index(
                fields=["account", "object_type", "object_id", "-created_at", "-id"],
                name="audit_object_recent",
            ),
        ]
        verbose_name_plural = "log entries"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Log entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Log entries cannot be deleted.")
