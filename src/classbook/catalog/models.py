"""Programs, levels, rooms, sessions, classes, camps, closures and their meetings."""

from django.db import models
from django.utils import timezone

from classbook.core.tenancy import TenantModel


class Program(TenantModel):
    """A line of business, e.g. "Recreational Gymnastics" or "Swim Lessons"."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="program_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Level(TenantModel):
    """A skill level inside a program (Level 1, Level 2, ...); students carry one."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="levels")
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower comes first.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program__name", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="level_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.program.name} · {self.name}"
