"""Writes about families. Every public function here is one transaction and writes
exactly one audit entry, on the family (so the family page's history tells the whole
story), except policy publishing, which is logged on the policy.

Every service that changes a family's people locks the family row first, which
serialises concurrent edits of one family and keeps ``Family.search_text`` right.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from classbook.accounts.models import User
from classbook.audit.actions import register_action
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.catalog.models import Level
from classbook.core import clock
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import require_account
from classbook.core.urls import account_reverse
from classbook.families.merge import run_merge_hooks
from classbook.families.models import (
    EmergencyContact,
    Family,
    FamilyTag,
    Guardian,
    Policy,
    PolicyAcceptance,
    PolicyVersion,
    StaffNote,
    Student,
    Tag,
)
from classbook.families.search import build_search_text
from classbook.families.selectors import possible_duplicates
from classbook.staff.passwords import remember_current_password

FAMILY_CREATED = register_action("family.created", "Family added")
FAMILY_UPDATED = register_action("family.updated", "Family changed")
FAMILY_TAGS_CHANGED = register_action("family.tags_changed", "Family tags changed")
FAMILY_MERGED = register_action("family.merged", "Families merged")
GUARDIAN_ADDED = register_action("family.guardian_added", "Guardian added")
GUARDIAN_CHANGED = register_action("family.guardian_changed", "Guardian changed")
GUARDIAN_MADE_PRIMARY = register_action("family.guardian_made_primary", "Primary guardian changed")
GUARDIAN_REMOVED = register_action("family.guardian_removed", "Guardian removed")
GUARDIAN_RESTORED = register_action("family.guardian_restored", "Guardian restored")
STUDENT_ADDED = register_action("family.student_added", "Student added")
STUDENT_CHANGED = register_action("family.student_changed", "Student changed")
STUDENT_REMOVED = register_action("family.student_removed", "Student removed")
STUDENT_RESTORED = register_action("family.student_restored", "Student restored")
CONTACT_ADDED = register_action("family.contact_added", "Emergency contact added")
CONTACT_CHANGED = register_action("family.contact_changed", "Emergency contact changed")
CONTACT_REMOVED = register_action("family.contact_removed", "Emergency contact removed")
NOTE_ADDED = register_action("family.note_added", "Staff note added")
POLICY_PUBLISHED = register_action("policy.published", "Policy version published")
POLICY_ACCEPTED = register_action("family.policy_accepted", "Policy accepted")
PORTAL_INVITED = register_action("family.portal_invited", "Guardian invited to the portal")
PORTAL_PASSWORD_SET = register_action("family.portal_password_set", "Guardian set portal password")
PORTAL_LOGGED_IN = register_action("family.portal_logged_in", "Guardian logged in to the portal")

MAX_NOTE_LENGTH = 5000
MAX_AGE_YEARS = 100


# --- input shapes ------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyDetails:
    name: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class GuardianDetails:
    first_name: str
    last_name: str
    relationship: str = ""
    email: str = ""
    mobile_phone: str = ""
    home_phone: str = ""
    work_phone: str = ""
    address: str = ""
    sms_opt_in: bool = False


@dataclass(frozen=True)
class StudentDetails:
    first_name: str
    last_name: str
    date_of_birth: date | None
    gender: str = Student.Gender.UNSPECIFIED
    level: Level | None = None
    medical_notes: str = ""
    allergies: str = ""
    notes: str = ""


FAMILY_FIELDS = tuple(f.name for f in fields(FamilyDetails))
GUARDIAN_FIELDS = tuple(f.name for f in fields(GuardianDetails))
STUDENT_FIELDS = tuple(f.name for f in fields(StudentDetails))
CONTACT_FIELDS = ("name", "relationship", "phone")


class DuplicateFamily(ValidationFailed):
    """The new family looks like one that exists; ``matches`` lists them."""

    def __init__(self, matches: list[Family]):
        self.matches = matches
        names = ", ".join(f"{f.name} (#{f.pk})" for f in matches)
        super().__init__(
            {
                "__all__": [
                    f"This looks like a family that is already here: {names}. "
                    "Open it, or confirm that this is a different family."
                ]
            }
        )


# --- helpers -----------------------------------------------------------------------------


def _prefixed(errors: dict[str, list[str]], prefix: str) -> dict[str, list[str]]:
    if not prefix:
        return errors
    return {
        (f"{prefix}{field}" if field != "__all__" else "__all__"): messages
        for field, messages in errors.items()
    }


def _validated(instance, *, exclude: Iterable[str], prefix: str = "") -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        raise ValidationFailed(_prefixed(exc.message_dict, prefix)) from None


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


def _lock(family: Family) -> Family:
    """The family row, locked for the rest of the transaction; refuses merged families."""
    locked = Family.objects.select_for_update().get(pk=family.pk)
    if locked.merged_into_id is not None:
        raise ValidationFailed(
            "This family was merged into another one; make changes on that family."
        )
    return locked


def _refresh(family: Family) -> None:
    """Rebuild the family's search text from its current guardians and students."""
    guardians = [
        (g.first_name, g.last_name, g.email, g.phone_digit_set)
        for g in Guardian.objects.filter(family=family).order_by("-is_primary", "id")
    ]
    students = list(
        Student.objects.filter(family=family).order_by("id").values_list("first_name", "last_name")
    )
    family.search_text = build_search_text(
        family_name=family.name, guardians=guardians, students=students
    )
    family.updated_at = clock.now()
    Family.objects.filter(pk=family.pk).update(
        search_text=family.search_text, updated_at=family.updated_at
    )


def _today() -> date:
    return timezone.localdate(clock.now())


def _apply_family(family: Family, details: FamilyDetails) -> None:
    for name in FAMILY_FIELDS:
        setattr(family, name, _stripped(getattr(details, name)))
    _validated(family, exclude=["account", "tags"])


def _apply_guardian(guardian: Guardian, details: GuardianDetails, *, prefix: str = "") -> None:
    for name in GUARDIAN_FIELDS:
        setattr(guardian, name, _stripped(getattr(details, name)))
    guardian.email = guardian.email.lower()
    _validated(guardian, exclude=["account", "family", "user"], prefix=prefix)
    errors: dict[str, list[str]] = {}
    if not (guardian.email or guardian.mobile_phone or guardian.home_phone or guardian.work_phone):
        errors["email"] = ["Give at least an email address or a phone number."]
    if guardian.sms_opt_in and not guardian.mobile_phone:
        errors["sms_opt_in"] = ["Text messages need a mobile phone number."]
    if errors:
        raise ValidationFailed(_prefixed(errors, prefix))


def _apply_student(student: Student, details: StudentDetails, *, prefix: str = "") -> None:
    errors: dict[str, list[str]] = {}
    for name in STUDENT_FIELDS:
        setattr(student, name, _stripped(getattr(details, name)))
    dob = student.date_of_birth
    if dob is None:
        errors["date_of_birth"] = ["Enter the date of birth."]
    elif dob > _today():
        errors["date_of_birth"] = ["The date of birth is in the future."]
    elif dob.year < _today().year - MAX_AGE_YEARS:
        errors["date_of_birth"] = [
            f"That makes the student over {MAX_AGE_YEARS}; check the year of birth."
        ]
    if student.level is not None and student.level.account_id != require_account().pk:
        errors["level"] = ["Choose a level of this business."]
    if errors:
        raise ValidationFailed(_prefixed(errors, prefix))
    _validated(student, exclude=["account", "family"], prefix=prefix)


def _guardian_snapshot(guardian: Guardian) -> dict:
    return snapshot(guardian, GUARDIAN_FIELDS)


def _student_snapshot(student: Student) -> dict:
    return snapshot(student, STUDENT_FIELDS)


def _labelled(label: str, changes: dict) -> dict:
    """Audit changes about one person of the family: "Maria Garcia · email"."""
    return {f"{label} · {field}": pair for field, pair in changes.items()}


# --- families ----------------------------------------------------------------------------


@transaction.atomic
def family_create(
    *,
    details: FamilyDetails,
    guardian: GuardianDetails,
    students: Sequence[StudentDetails] = (),
    allow_duplicate: bool = False,
) -> Family:
    """A family with its primary guardian and any students, all or nothing.

    Raises ``DuplicateFamily`` when a family with the same last name and the same
    guardian email or phone exists, unless ``allow_duplicate``.
    """
    family = Family(account=require_account())
    errors: dict[str, list[str]] = {}
    try:
        _apply_family(family, details)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    first = Guardian(is_primary=True)
    try:
        _apply_guardian(first, guardian, prefix="guardian.")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    children = []
    for index, student_details in enumerate(students):
        child = Student()
        try:
            _apply_student(child, student_details, prefix=f"students.{index}.")
        except ValidationFailed as exc:
            errors.update(exc.errors)
        children.append(child)
    if errors:
        raise ValidationFailed(errors)
    if not allow_duplicate:
        matches = possible_duplicates(
            names=[family.name, first.last_name],
            email=first.email,
            phones=[first.mobile_phone, first.home_phone, first.work_phone],
        )
        if matches:
            raise DuplicateFamily(matches)
    family.save()
    first.family = family
    first.save()
    for child in children:
        child.family = family
        child.save()
    _refresh(family)
    log_action(
        action=FAMILY_CREATED,
        obj=family,
        changes=created_fields(
            {
                **{k: v for k, v in snapshot(family, FAMILY_FIELDS).items() if v},
                "guardian": first.full_name,
                "students": [c.full_name for c in children],
                **({"duplicate_confirmed": True} if allow_duplicate else {}),
            }
        ),
    )
    return family


@transaction.atomic
def family_update(*, family: Family, details: FamilyDetails) -> Family:
    family = _lock(family)
    before = snapshot(family, FAMILY_FIELDS)
    _apply_family(family, details)
    family.save(update_fields=[*FAMILY_FIELDS])
    _refresh(family)
    log_action(
        action=FAMILY_UPDATED,
        obj=family,
        changes=changes_between(before, snapshot(family, FAMILY_FIELDS)),
    )
    return family


def _clean_tag_names(names: Iterable[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for raw in names:
        name = " ".join((raw or "").split())
        if not name:
            continue
        if len(name) > 60:
            raise ValidationFailed(
                {"tags": [f"“{name[:20]}…” is too long (60 characters at most)."]}
            )
        cleaned.setdefault(name.lower(), name)
    return list(cleaned.values())


@transaction.atomic
def family_set_tags(*, family: Family, names: Iterable[str]) -> Family:
    """Make the family's tags exactly ``names``; tags new to the business are created."""
    family = _lock(family)
    wanted = _clean_tag_names(names)
    current = list(FamilyTag.objects.filter(family=family).select_related("tag"))
    before = sorted(link.tag.name for link in current)
    tags = []
    for name in wanted:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            tag = Tag.objects.create(name=name)
        tags.append(tag)
    wanted_ids = {t.pk for t in tags}
    FamilyTag.objects.filter(family=family).exclude(tag_id__in=wanted_ids).delete()
    have = {link.tag_id for link in current}
    FamilyTag.objects.bulk_create(
        [FamilyTag(account=family.account, family=family, tag=t) for t in tags if t.pk not in have]
    )
    after = sorted(t.name for t in tags)
    if before != after:
        log_action(action=FAMILY_TAGS_CHANGED, obj=family, changes={"tags": [before, after]})
    return family


@transaction.atomic
def family_merge(*, keep: Family, merge: Family) -> Family:
    """Move everything of ``merge`` into ``keep`` (see ``families.merge`` for the hooks).

    ``merge`` stays as an empty row pointing at ``keep`` (``merged_into``), so old links
    and its history still lead somewhere; it no longer appears in lists or searches.
    """
    if keep.pk == merge.pk:
        raise ValidationFailed({"merge": ["Choose two different families."]})
    locked = {
        f.pk: f
        for f in Family.objects.select_for_update()
        .filter(pk__in=[keep.pk, merge.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationFailed({"merge": ["One of these families no longer exists."]})
    keep, merge = locked[keep.pk], locked[merge.pk]
    for family in (keep, merge):
        if family.merged_into_id is not None:
            raise ValidationFailed(
                {"merge": [f"The {family.name} family (#{family.pk}) was already merged."]}
            )
    moved = run_merge_hooks(keep, merge)
    merge.merged_into = keep
    merge.merged_at = clock.now()
    merge.search_text = ""
    merge.save(update_fields=["merged_into", "merged_at", "search_text"])
    _refresh(keep)
    log_action(
        action=FAMILY_MERGED,
        obj=keep,
        changes={
            "merged_family": [None, f"{merge.name} (#{merge.pk})"],
            **{name: [None, items] for name, items in moved.items()},
        },
    )
    return keep


# --- guardians ---------------------------------------------------------------------------


def _sync_login(guardian: Guardian) -> None:
    """Keep a guardian's portal login's name and email in step with the guardian."""
    user = guardian.user
    if user is None:
        return
    if (
        guardian.email
        and User.objects.filter(kind=User.Kind.GUARDIAN, email__iexact=guardian.email)
        .exclude(pk=user.pk)
        .exists()
    ):
        raise ValidationFailed({"email": [f"Another portal login already uses {guardian.email}."]})
    user.email = guardian.email
    user.first_name, user.last_name = guardian.first_name, guardian.last_name
    user.save(update_fields=["email", "first_name", "last_name"])


@transaction.atomic
def guardian_add(
    *, family: Family, details: GuardianDetails, make_primary: bool = False
) -> Guardian:
    family = _lock(family)
    guardian = Guardian(family=family)
    _apply_guardian(guardian, details)
    has_primary = Guardian.objects.filter(family=family, is_primary=True).exists()
    if make_primary and has_primary:
        Guardian.objects.filter(family=family, is_primary=True).update(is_primary=False)
    guardian.is_primary = make_primary or not has_primary
    guardian.save()
    _refresh(family)
    log_action(
        action=GUARDIAN_ADDED,
        obj=family,
        changes=created_fields({**_guardian_snapshot(guardian), "is_primary": guardian.is_primary}),
    )
    return guardian


@transaction.atomic
def guardian_update(*, guardian: Guardian, details: GuardianDetails) -> Guardian:
    family = _lock(guardian.family)
    guardian = Guardian.objects.select_related("user").get(pk=guardian.pk)
    before = _guardian_snapshot(guardian)
    _apply_guardian(guardian, details)
    guardian.save()
    _sync_login(guardian)
    _refresh(family)
    log_action(
        action=GUARDIAN_CHANGED,
        obj=family,
        changes=_labelled(
            guardian.full_name, changes_between(before, _guardian_snapshot(guardian))
        ),
    )
    return guardian


@transaction.atomic
def guardian_make_primary(*, guardian: Guardian) -> Guardian:
    family = _lock(guardian.family)
    guardian = Guardian.objects.get(pk=guardian.pk)
    if not guardian.is_active:
        raise ValidationFailed("Restore this guardian before making them the primary guardian.")
    previous = Guardian.objects.filter(family=family, is_primary=True).first()
    if previous is not None and previous.pk == guardian.pk:
        return guardian
    Guardian.objects.filter(family=family, is_primary=True).update(is_primary=False)
    guardian.is_primary = True
    guardian.save(update_fields=["is_primary"])
    _refresh(family)
    log_action(
        action=GUARDIAN_MADE_PRIMARY,
        obj=family,
        changes={
            "primary_guardian": [previous.full_name if previous else None, guardian.full_name]
        },
    )
    return guardian


@transaction.atomic
def guardian_set_active(*, guardian: Guardian, active: bool) -> Guardian:
    """Remove (deactivate) or restore a guardian. Removing the primary guardian passes
    the role to another active guardian; a family keeps at least one. Removing a guardian
    turns off their portal login (inviting them again turns it back on)."""
    family = _lock(guardian.family)
    guardian = Guardian.objects.select_related("user").get(pk=guardian.pk)
    if guardian.is_active == active:
        return guardian
    changes: dict = {"is_active": [not active, active]}
    if not active:
        others = Guardian.objects.filter(family=family, is_active=True).exclude(pk=guardian.pk)
        successor = others.order_by("id").first()
        if successor is None:
            raise ValidationFailed(
                "A family needs at least one guardian: add another guardian before removing "
                "this one."
            )
        if guardian.is_primary:
            guardian.is_primary = False
            guardian.is_active = False
            guardian.save(update_fields=["is_primary", "is_active"])
            successor.is_primary = True
            successor.save(update_fields=["is_primary"])
            changes["primary_guardian"] = [guardian.full_name, successor.full_name]
        else:
            guardian.is_active = False
            guardian.save(update_fields=["is_active"])
        if guardian.user is not None and guardian.user.is_active:
            guardian.user.is_active = False
            guardian.user.save(update_fields=["is_active"])
            changes["portal_login"] = ["active", "turned off"]
    else:
        guardian.is_active = True
        if not Guardian.objects.filter(family=family, is_primary=True).exists():
            guardian.is_primary = True
        guardian.save(update_fields=["is_active", "is_primary"])
    _refresh(family)
    log_action(
        action=GUARDIAN_RESTORED if active else GUARDIAN_REMOVED,
        obj=family,
        changes=_labelled(guardian.full_name, changes),
    )
    return guardian


# --- students ----------------------------------------------------------------------------


@transaction.atomic
def student_add(*, family: Family, details: StudentDetails) -> Student:
    family = _lock(family)
    student = Student(family=family)
    _apply_student(student, details)
    student.save()
    _refresh(family)
    log_action(action=STUDENT_ADDED, obj=family, changes=created_fields(_student_snapshot(student)))
    return student


@transaction.atomic
def student_update(*, student: Student, details: StudentDetails) -> Student:
    family = _lock(student.family)
    student = Student.objects.select_related("level").get(pk=student.pk)
    before = _student_snapshot(student)
    _apply_student(student, details)
    student.save()
    _refresh(family)
    log_action(
        action=STUDENT_CHANGED,
        obj=family,
        changes=_labelled(student.full_name, changes_between(before, _student_snapshot(student))),
    )
    return student


@transaction.atomic
def student_set_active(*, student: Student, active: bool) -> Student:
    """Remove (deactivate) or restore a student; their record and history stay."""
    family = _lock(student.family)
    student = Student.objects.get(pk=student.pk)
    if student.is_active == active:
        return student
    student.is_active = active
    student.save(update_fields=["is_active"])
    log_action(
        action=STUDENT_RESTORED if active else STUDENT_REMOVED,
        obj=family,
        changes=_labelled(student.full_name, {"is_active": [not active, active]}),
    )
    return student


# --- emergency contacts and notes --------------------------------------------------------


def _apply_contact(contact: EmergencyContact, name: str, relationship: str, phone: str) -> None:
    contact.name, contact.relationship, contact.phone = (
        name.strip(),
        relationship.strip(),
        phone.strip(),
    )
    _validated(contact, exclude=["account", "family"])


@transaction.atomic
def contact_add(
    *, family: Family, name: str, phone: str, relationship: str = ""
) -> EmergencyContact:
    family = _lock(family)
    contact = EmergencyContact(family=family)
    _apply_contact(contact, name, relationship, phone)
    contact.save()
    log_action(
        action=CONTACT_ADDED, obj=family, changes=created_fields(snapshot(contact, CONTACT_FIELDS))
    )
    return contact


@transaction.atomic
def contact_update(
    *, contact: EmergencyContact, name: str, phone: str, relationship: str = ""
) -> EmergencyContact:
    family = _lock(contact.family)
    contact = EmergencyContact.objects.get(pk=contact.pk)
    before = snapshot(contact, CONTACT_FIELDS)
    _apply_contact(contact, name, relationship, phone)
    contact.save()
    log_action(
        action=CONTACT_CHANGED,
        obj=family,
        changes=_labelled(contact.name, changes_between(before, snapshot(contact, CONTACT_FIELDS))),
    )
    return contact


@transaction.atomic
def contact_remove(*, contact: EmergencyContact) -> None:
    """Emergency contacts have nothing hanging off them: removing one deletes it (the
    audit entry keeps what it was)."""
    family = _lock(contact.family)
    contact = EmergencyContact.objects.get(pk=contact.pk)
    log_action(
        action=CONTACT_REMOVED,
        obj=family,
        changes={
            field: [value, None] for field, value in snapshot(contact, CONTACT_FIELDS).items()
        },
    )
    contact.delete()


@transaction.atomic
def note_add(*, family: Family, author: User | None, body: str) -> StaffNote:
    family = _lock(family)
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"body": ["Write the note first."]})
    if len(body) > MAX_NOTE_LENGTH:
        raise ValidationFailed({"body": [f"Keep notes under {MAX_NOTE_LENGTH} characters."]})
    note = StaffNote.objects.create(family=family, author=author, body=body)
    log_action(action=NOTE_ADDED, obj=family, changes=created_fields({"note": body[:200]}))
    return note


# --- policies and waivers ----------------------------------------------------------------


@transaction.atomic
def policy_publish(
    *,
    policy: Policy | None = None,
    name: str,
    text: str,
    kind: str = Policy.Kind.POLICY,
    by: User | None = None,
) -> PolicyVersion:
    """A new policy (version 1), or a new version of ``policy``. Versions are never edited,
    so an acceptance always says which text was accepted."""
    name, text = name.strip(), text.strip()
    errors: dict[str, list[str]] = {}
    if not text:
        errors["text"] = ["Enter the text families accept."]
    creating = policy is None
    policy = Policy() if creating else Policy.objects.select_for_update().get(pk=policy.pk)
    before = snapshot(policy, ("name", "kind"))
    policy.name, policy.kind = name, kind
    try:
        policy.full_clean(exclude=["account"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if name and Policy.objects.filter(name__iexact=name).exclude(pk=policy.pk).exists():
        errors["name"] = [f"There is already a policy named “{name}”."]
    if errors:
        raise ValidationFailed(errors)
    policy.save()
    latest = PolicyVersion.objects.filter(policy=policy).aggregate(n=Max("version"))["n"] or 0
    version = PolicyVersion.objects.create(
        policy=policy, version=latest + 1, text=text, published_by=by
    )
    after = snapshot(policy, ("name", "kind"))
    log_action(
        action=POLICY_PUBLISHED,
        obj=policy,
        changes={
            **(created_fields(after) if creating else changes_between(before, after)),
            "version": [latest or None, version.version],
        },
    )
    return version


@transaction.atomic
def policy_acceptance_record(
    *,
    guardian: Guardian,
    policy_version: PolicyVersion,
    method: str = PolicyAcceptance.Method.IN_PERSON,
    accepted_at: datetime | None = None,
    recorded_by: User | None = None,
) -> PolicyAcceptance:
    family = _lock(guardian.family)
    guardian = Guardian.objects.get(pk=guardian.pk)
    errors: dict[str, list[str]] = {}
    if not guardian.is_active:
        errors["guardian"] = ["Choose a current guardian of this family."]
    accepted_at = accepted_at or clock.now()
    if accepted_at > clock.now():
        errors["accepted_at"] = ["The acceptance date is in the future."]
    if method not in PolicyAcceptance.Method.values:
        errors["method"] = ["Choose how the policy was accepted."]
    if PolicyAcceptance.objects.filter(guardian=guardian, policy_version=policy_version).exists():
        errors["policy_version"] = [f"{guardian.full_name} already accepted {policy_version}."]
    if errors:
        raise ValidationFailed(errors)
    acceptance = PolicyAcceptance.objects.create(
        family=family,
        guardian=guardian,
        policy_version=policy_version,
        method=method,
        accepted_at=accepted_at,
        accepted_by=recorded_by,
    )
    log_action(
        action=POLICY_ACCEPTED,
        obj=family,
        changes=created_fields(
            {
                "policy": policy_version.policy.name,
                "version": policy_version.version,
                "guardian": guardian.full_name,
                "method": acceptance.get_method_display(),
            }
        ),
    )
    return acceptance


# --- the guardian's portal login ---------------------------------------------------------


def _portal_password_path(user: User) -> str:
    return account_reverse(
        "portal:password_set",
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )


def _portal_username(guardian: Guardian) -> str:
    candidate = guardian.email
    username_field = User._meta.get_field("username")
    try:
        username_field.run_validators(candidate)
    except ValidationError:
        candidate = ""
    if (
        not candidate
        or len(candidate) > 150
        or User.objects.filter(username__iexact=candidate).exists()
    ):
        candidate = f"guardian-{guardian.pk}"
    return candidate


@transaction.atomic
def guardian_portal_invite(*, guardian: Guardian, base_url: str) -> User:
    """Give the guardian a portal login (or re-send the link) and email them a link to
    choose a password. ``base_url`` is the site's scheme and host, e.g. https://example."""
    family = _lock(guardian.family)
    guardian = Guardian.objects.select_related("user").get(pk=guardian.pk)
    if not guardian.is_active:
        raise ValidationFailed("Restore this guardian before inviting them to the portal.")
    if not guardian.email:
        raise ValidationFailed({"email": [f"Add an email address for {guardian.full_name} first."]})
    clash = User.objects.filter(kind=User.Kind.GUARDIAN, email__iexact=guardian.email)
    if guardian.user_id:
        clash = clash.exclude(pk=guardian.user_id)
    if clash.exists():
        raise ValidationFailed({"email": [f"Another portal login already uses {guardian.email}."]})
    user = guardian.user
    first_invite = user is None
    if user is None:
        user = User(
            account=require_account(),
            kind=User.Kind.GUARDIAN,
            username=_portal_username(guardian),
            email=guardian.email,
            first_name=guardian.first_name,
            last_name=guardian.last_name,
        )
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # someone took the username meanwhile
            raise ValidationFailed("Please try again: the login name was just taken.") from None
        guardian.user = user
        guardian.save(update_fields=["user"])
    else:
        user.email = guardian.email
        user.is_active = True
        user.save(update_fields=["email", "is_active"])
    account = require_account()
    link = base_url.rstrip("/") + _portal_password_path(user)
    subject = f"Your {account.name} parent portal login"
    body = (
        f"Hello {guardian.first_name},\n\n{account.name} has set up a parent portal login "
        f"for you. Choose your password here:\n\n{link}\n\nThen log in with your email "
        f"address ({guardian.email}). The link works once and expires in 3 days."
    )
    recipient = guardian.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [recipient]))
    log_action(
        action=PORTAL_INVITED,
        obj=family,
        changes=_labelled(
            guardian.full_name,
            {
                "portal_login": [None if first_invite else user.username, user.username],
                "emailed_to": [None, recipient],
            },
        ),
    )
    return user


@transaction.atomic
def guardian_password_set(*, user: User, new_password: str) -> User:
    """The guardian chose a password from the emailed link."""
    user = User.objects.select_for_update().get(pk=user.pk, kind=User.Kind.GUARDIAN)
    guardian = Guardian.objects.select_related("family").filter(user=user).first()
    if guardian is None or not guardian.is_active:
        raise ValidationFailed("This portal login is no longer in use; ask the business.")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed({"new_password1": list(exc.messages)}) from None
    remember_current_password(user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "password_history", "must_change_password"])
    log_action(
        action=PORTAL_PASSWORD_SET,
        obj=guardian.family,
        changes=_labelled(guardian.full_name, {"password": ["", ""]}),
    )
    return user


@transaction.atomic
def guardian_login_record(*, user: User) -> None:
    guardian = Guardian.objects.select_related("family").get(user=user)
    user.last_login = clock.now()
    user.save(update_fields=["last_login"])
    log_action(
        action=PORTAL_LOGGED_IN,
        obj=guardian.family,
        changes=_labelled(guardian.full_name, {"portal_login": [None, user.username]}),
    )
