"""Accounts (tenants), their locations, and the people who log in."""

import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as django_timezone

from classbook.core.money import CURRENCIES
from classbook.core.tenancy import TenantModel, current_account
from classbook.core.validators import validate_phone

# Path segments that can never be an account slug (they are top-level URLs).
RESERVED_SLUGS = frozenset(
    {
        "platform",
        "healthz",
        "static",
        "media",
        "api",
        "admin",
        "login",
        "logout",
        "www",
        "office",
        "portal",
        "parent",
        "assets",
        "favicon.ico",
        "robots.txt",
    }
)

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1–50 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is reserved; choose another address.")


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a time zone (for example America/Chicago).")


class Account(models.Model):
    """One business. Everything tenant-owned points here."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"

    slug = models.CharField(
        max_length=50, unique=True, validators=[slug_validator, validate_slug_not_reserved]
    )
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status, default=Status.ACTIVE)
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    currency = models.CharField(max_length=3, choices=[(c, c) for c in CURRENCIES], default="USD")
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "cancelled"]),
                name="account_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.ACTIVE


class Location(TenantModel):
    """A physical site of an account (a gym, a pool)."""

    name = models.CharField(max_length=120)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / province", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    phone = models.CharField(max_length=40, blank=True, validators=[validate_phone])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="location_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        parts = [
            self.address_line1,
            self.address_line2,
            " ".join(p for p in [self.city, self.region, self.postal_code] if p),
        ]
        return ", ".join(p for p in parts if p)


class UserManager(BaseUserManager):
    """Inside an account: that account's people. Outside: platform operators only.

    A user row is the one tenant row visible without an account, and only when it has no
    account (an operator); the database policy is the same ("null-visible" in core.rls).
    """

    def get_queryset(self):
        account = current_account()
        queryset = super().get_queryset()
        if account is None:
            return queryset.filter(account__isnull=True)
        return queryset.filter(account=account)


class User(AbstractBaseUser):
    """Anyone who logs in: staff of an account, a guardian, or a platform operator."""

    classbook_tenant_policy = "null-visible"  # read by classbook.core.rls

    class Kind(models.TextChoices):
        STAFF = "staff", "Staff"
        GUARDIAN = "guardian", "Guardian"
        PLATFORM = "platform", "Platform operator"

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    username = models.CharField(
        max_length=150,
        validators=[RegexValidator(r"^[\w.@+-]+$", "Letters, digits and . @ + - _ only.")],
    )
    email = models.EmailField(blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField("job title", max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    must_change_password = models.BooleanField(default=False)
    password_history = models.JSONField(default=list, blank=True, editable=False)
    date_joined = models.DateTimeField(default=django_timezone.now)

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    objects = UserManager()
    everyone = models.Manager()  # migrations and platform tooling only

    class Meta:
        ordering = ["first_name", "last_name", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "username"],
                condition=Q(account__isnull=False),
                name="user_username_unique_in_account",
            ),
            models.UniqueConstraint(
                fields=["username"],
                condition=Q(account__isnull=True),
                name="user_username_unique_platform",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="platform", account__isnull=True)
                    | Q(kind__in=["staff", "guardian"], account__isnull=False)
                ),
                name="user_kind_matches_account",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.username

    @property
    def is_staff_member(self) -> bool:
        return self.kind == self.Kind.STAFF

    @property
    def is_platform_operator(self) -> bool:
        return self.kind == self.Kind.PLATFORM
