"""Families: guardians, students, emergency contacts, staff notes, tags, policies.

A family is the billing unit. Every row here belongs to one account (``TenantModel``).
Writes go through ``classbook.families.services``; in particular ``Family.search_text``
is maintained there (see docs/decisions.md, "Families: search text and merge").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from classbook.core.tenancy import TenantModel
from classbook.core.validators import validate_phone

_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?)\s*\d")


def phone_digits(value: str) -> str:
    """The digits of a phone number, without any extension: "(512) 555-0100 x12" → 5125550100."""
    if not value:
        return ""
    return re.sub(r"\D", "", _EXTENSION.split(value)[0])


def search_normalize(value: str) -> str:
    """Lower case without accents, so "José" is found by "jose" (stored and queried alike)."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def age_on(date_of_birth: date, day: date) -> tuple[int, int]:
    """Completed (years, months) of someone born on ``date_of_birth`` on ``day``."""
    months = (day.year - date_of_birth.year) * 12 + day.month - date_of_birth.month
    if day.day < date_of_birth.day:
        months -= 1
    months = max(months, 0)
    return months // 12, months % 12


class Tag(TenantModel):
    """A label staff put on families ("VIP", "Staff family", "Needs follow-up")."""

    name = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(F("account"), Lower("name"), name="family_tag_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Family(TenantModel):
    """The billing unit: guardians, students, contacts, notes and accepted policies."""

    name = models.CharField(
        "family name", max_length=120, help_text="Usually the last name, e.g. “Garcia”."
    )
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state / province", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    tags = models.ManyToManyField(Tag, through="FamilyTag", related_name="families", blank=True)
    # Lower-cased, accent-free text of the family, its guardians (names, emails, phone
    # digits) and students (names); rebuilt by the services after every change.
    search_text = models.TextField(blank=True, default="", editable=False)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_families",
        editable=False,
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "families"
        indexes = [
            models.Index(fields=["account", "name", "id"], name="family_account_name"),
            models.Index(fields=["account", "merged_into"], name="family_account_merged"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="family_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True, merged_at__isnull=True)
                | Q(merged_into__isnull=False, merged_at__isnull=False),
                name="family_merged_at_with_merged_into",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} family"

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def address(self) -> str:
        parts = [
            self.address_line1,
            self.address_line2,
            " ".join(p for p in [self.city, self.region, self.postal_code] if p),
        ]
        return ", ".join(p for p in parts if p)


class FamilyTag(TenantModel):
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="family_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="family_tags")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["account", "family"], name="familytag_account_family"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["family", "tag"], name="family_tag_once"),
        ]

    def __str__(self) -> str:
        return f"{self.family_id}: {self.tag_id}"


class Guardian(TenantModel):
    """A parent or other adult responsible for the family; may have a portal login."""

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="guardians")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    relationship = models.CharField(
        max_length=60, blank=True, help_text="For example Mother, Father, Grandparent."
    )
    email = models.EmailField(blank=True)
    mobile_phone = models.CharField(max_length=40, blank=True, validators=[validate_phone])
    home_phone = models.CharField(max_length=40, blank=True, validators=[validate_phone])
    work_phone = models.CharField(max_length=40, blank=True, validators=[validate_phone])
    # Digits only, for finding a number however it was typed (kept by save()).
    mobile_digits = models.CharField(max_length=20, blank=True, editable=False)
    home_digits = models.CharField(max_length=20, blank=True, editable=False)
    work_digits = models.CharField(max_length=20, blank=True, editable=False)
    address = models.CharField(
        max_length=300, blank=True, help_text="Only if different from the family's address."
    )
    is_primary = models.BooleanField(default=False, editable=False)
    sms_opt_in = models.BooleanField("text messages (SMS) allowed", default=False)
    is_active = models.BooleanField(default=True, editable=False)
    user = models.OneToOneField(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guardian_profile",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-is_primary", "first_name", "last_name", "id"]
        indexes = [
            # (account, family) rather than the FK's own index: every query carries the
            # account, and without statistics SQLite would otherwise pick the account index.
            models.Index(fields=["account", "family"], name="guardian_account_family"),
            models.Index(fields=["account", "email"], name="guardian_account_email"),
            models.Index(fields=["account", "mobile_digits"], name="guardian_account_mobile"),
            models.Index(fields=["account", "home_digits"], name="guardian_account_home"),
            models.Index(fields=["account", "work_digits"], name="guardian_account_work"),
            models.Index(fields=["account", "last_name"], name="guardian_account_last_name"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["family"],
                condition=Q(is_primary=True),
                name="guardian_one_primary_per_family",
            ),
            models.CheckConstraint(
                condition=Q(is_primary=False) | Q(is_active=True),
                name="guardian_primary_is_active",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def phones(self) -> list[tuple[str, str]]:
        return [
            (label, number)
            for label, number in (
                ("mobile", self.mobile_phone),
                ("home", self.home_phone),
                ("work", self.work_phone),
            )
            if number
        ]

    @property
    def phone_digit_set(self) -> set[str]:
        return {d for d in (self.mobile_digits, self.home_digits, self.work_digits) if d}

    def save(self, *args, **kwargs):
        self.mobile_digits = phone_digits(self.mobile_phone)
        self.home_digits = phone_digits(self.home_phone)
        self.work_digits = phone_digits(self.work_phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "mobile_digits",
                "home_digits",
                "work_digits",
            }
        super().save(*args, **kwargs)


class Student(TenantModel):
    """A child (or adult) who takes classes."""

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        NONBINARY = "nonbinary", "Non-binary"
        UNSPECIFIED = "unspecified", "Not specified"

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="students")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=20, choices=Gender, default=Gender.UNSPECIFIED)
    level = models.ForeignKey(
        "catalog.Level", null=True, blank=True, on_delete=models.PROTECT, related_name="students"
    )
    medical_notes = models.TextField(blank=True)
    allergies = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["date_of_birth", "first_name", "id"]
        indexes = [
            models.Index(fields=["account", "family"], name="student_account_family"),
            models.Index(
                fields=["account", "last_name", "first_name"], name="student_account_name"
            ),
            models.Index(fields=["account", "date_of_birth"], name="student_account_dob"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(gender__in=["female", "male", "nonbinary", "unspecified"]),
                name="student_gender_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def age(self, on: date | None = None) -> tuple[int, int]:
        return age_on(self.date_of_birth, on or timezone.localdate())

    @property
    def age_label(self) -> str:
        years, months = self.age()
        if years >= 18:
            return f"{years}"
        if years == 0:
            return f"{months} mo"
        return f"{years} y {months} mo" if months else f"{years}"

    @property
    def has_medical_info(self) -> bool:
        return bool(self.medical_notes.strip() or self.allergies.strip())


class EmergencyContact(TenantModel):
    """Someone to call when no guardian answers (not a guardian, no portal login)."""

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="emergency_contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=60, blank=True)
    phone = models.CharField(max_length=40, validators=[validate_phone])
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["account", "family"], name="contact_account_family"),
            models.Index(fields=["account", "phone_digits"], name="contact_account_phone"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.phone_digits = phone_digits(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "phone_digits"}
        super().save(*args, **kwargs)


class StaffNote(TenantModel):
    """An internal note about the family (never shown to guardians)."""

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="staff_notes")
    author = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "family", "-created_at"], name="staffnote_family_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="staffnote_body_not_empty"),
        ]

    def __str__(self) -> str:
        return self.body[:60]


class Policy(TenantModel):
    """A policy or waiver families accept; its text lives in numbered versions."""

    class Kind(models.TextChoices):
        POLICY = "policy", "Policy"
        WAIVER = "waiver", "Waiver"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.POLICY)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(F("account"), Lower("name"), name="policy_name_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["policy", "waiver"]), name="policy_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(TenantModel):
    """One published text of a policy. Never edited: a change is a new version."""

    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["policy__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "version"], name="policy_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="policy_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.policy.name} (version {self.version})"


class PolicyAcceptance(TenantModel):
    """A guardian accepted a given version of a policy: when, and who recorded it."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", "In person at the desk"
        PAPER = "paper", "Signed on paper"
        PORTAL = "portal", "Online in the portal"

    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="acceptances")
    guardian = models.ForeignKey(Guardian, on_delete=models.PROTECT, related_name="acceptances")
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="acceptances"
    )
    method = models.CharField(max_length=20, choices=Method, default=Method.IN_PERSON)
    accepted_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The login that recorded it (staff, or the guardian in the portal).",
    )

    class Meta:
        ordering = ["-accepted_at", "-id"]
        indexes = [
            models.Index(fields=["account", "family"], name="acceptance_account_family"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "policy_version"], name="acceptance_once_per_version"
            ),
            models.CheckConstraint(
                condition=Q(method__in=["in_person", "paper", "portal"]),
                name="acceptance_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guardian} accepted {self.policy_version}"
