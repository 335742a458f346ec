"""Reads about families that pages, commands and (later) the API share."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

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
    phone_digits,
    search_normalize,
)
from classbook.families.search import parse_query

MAX_DUPLICATES = 5


def family_search(query: str = "") -> QuerySet[Family]:
    """Families (not merged away) matching ``query``, best first, with their people.

    Guardians, students and tags come in three prefetch queries, however many families
    the page shows.
    """
    parsed = parse_query(query)
    queryset = Family.objects.filter(merged_into__isnull=True)
    order = ["name", "id"]  # the (account, name, id) index serves the plain list
    if parsed.digits:
        condition = Q()
        for digits in parsed.digit_variants():
            condition |= Q(search_text__contains=digits)
        queryset = queryset.filter(condition)
    elif parsed.prefix_only:
        queryset = queryset.filter(search_text__startswith=parsed.words[0])
    elif parsed.words:
        for word in parsed.words:
            queryset = queryset.filter(search_text__contains=word)
        # Families whose name starts with the first word come first.
        queryset = queryset.annotate(
            search_rank=Case(
                When(search_text__startswith=parsed.words[0], then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        order = ["search_rank", *order]
    return (
        queryset.order_by(*order)
        .only("id", "name", "city", "account_id", "created_at")
        .prefetch_related(
            Prefetch(
                "guardians",
                queryset=Guardian.objects.filter(is_active=True).only(
                    "id",
                    "family_id",
                    "account_id",
                    "first_name",
                    "last_name",
                    "email",
                    "mobile_phone",
                    "home_phone",
                    "work_phone",
                    "is_primary",
                ),
                to_attr="active_guardians",
            ),
            Prefetch(
                "students",
                queryset=Student.objects.filter(is_active=True).only(
                    "id", "family_id", "account_id", "first_name", "last_name", "date_of_birth"
                ),
                to_attr="active_students",
            ),
            Prefetch(
                "family_tags",
                queryset=FamilyTag.objects.select_related("tag").order_by("tag__name"),
                to_attr="tag_links",
            ),
        )
    )


def family_for_page(family_id: int) -> Family | None:
    """One family with everything its page shows (merged families too: they redirect)."""
    return (
        Family.objects.filter(pk=family_id)
        .select_related("merged_into")
        .prefetch_related(
            Prefetch(
                "guardians",
                queryset=Guardian.objects.select_related("user").order_by(
                    "-is_active", "-is_primary", "first_name", "id"
                ),
            ),
            Prefetch(
                "students",
                queryset=Student.objects.select_related("level__program").order_by(
                    "-is_active", "date_of_birth", "id"
                ),
            ),
            Prefetch("emergency_contacts", queryset=EmergencyContact.objects.all()),
            Prefetch(
                "family_tags",
                queryset=FamilyTag.objects.select_related("tag").order_by("tag__name"),
                to_attr="tag_links",
            ),
        )
        .first()
    )


def family_notes(family: Family, *, limit: int = 50) -> list[StaffNote]:
    return list(StaffNote.objects.filter(family=family).select_related("author")[:limit])


def family_acceptances(family: Family) -> list[PolicyAcceptance]:
    """Accepted policies, newest first, each with ``current_version`` for comparison."""
    acceptances = list(
        PolicyAcceptance.objects.filter(family=family).select_related(
            "guardian", "policy_version__policy", "accepted_by"
        )
    )
    latest = latest_versions([a.policy_version.policy_id for a in acceptances])
    for acceptance in acceptances:
        acceptance.current_version = latest.get(acceptance.policy_version.policy_id)
    return acceptances


def latest_versions(policy_ids: Iterable[int] | None = None) -> dict[int, PolicyVersion]:
    """The newest version of each policy (of the given ones, or all)."""
    queryset = PolicyVersion.objects.select_related("policy").order_by("policy_id", "-version")
    if policy_ids is not None:
        queryset = queryset.filter(policy_id__in=set(policy_ids))
    latest: dict[int, PolicyVersion] = {}
    for version in queryset:
        latest.setdefault(version.policy_id, version)
    return latest


def policies_with_versions() -> list[Policy]:
    return list(
        Policy.objects.prefetch_related(
            Prefetch("versions", queryset=PolicyVersion.objects.order_by("-version"))
        )
    )


def open_policy_versions() -> list[PolicyVersion]:
    """The current version of every active policy: what a guardian can accept now."""
    latest = latest_versions()
    return sorted(
        (v for v in latest.values() if v.policy.is_active), key=lambda v: v.policy.name.lower()
    )


def possible_duplicates(
    *,
    names: Iterable[str],
    email: str = "",
    phones: Iterable[str] = (),
    exclude_family_id: int | None = None,
) -> list[Family]:
    """Families with a guardian of the same last name (or family name) who shares the
    email address or a phone number. Uses the guardian email and phone-digit indexes."""
    contact = Q()
    email = email.strip().lower()
    if email:
        contact |= Q(email=email)
    for digits in {phone_digits(p) for p in phones} - {""}:
        contact |= Q(mobile_digits=digits) | Q(home_digits=digits) | Q(work_digits=digits)
    wanted = {search_normalize(n.strip()) for n in names if n and n.strip()}
    if not contact or not wanted:
        return []
    candidates = (
        Guardian.objects.filter(contact, family__merged_into__isnull=True)
        .select_related("family")
        .only("id", "first_name", "last_name", "family__id", "family__name", "family__account_id")
    )
    if exclude_family_id is not None:
        candidates = candidates.exclude(family_id=exclude_family_id)
    found: dict[int, Family] = {}
    for guardian in candidates[:50]:
        names_here = {search_normalize(guardian.last_name), search_normalize(guardian.family.name)}
        if names_here & wanted:
            found.setdefault(guardian.family_id, guardian.family)
    return list(found.values())[:MAX_DUPLICATES]


def guardian_for_user(user) -> Guardian | None:
    """The guardian record behind a portal login (active guardian, family not merged)."""
    return (
        Guardian.objects.filter(user=user, is_active=True)
        .select_related("family__merged_into")
        .first()
    )


def portal_family_students(family: Family) -> list[Student]:
    return list(Student.objects.filter(family=family, is_active=True).select_related("level"))


def guardian_to_email(family: Family) -> Guardian | None:
    """The active guardian notices go to: the primary one if they have an email, else the
    first other guardian with one."""
    return (
        Guardian.objects.filter(family=family, is_active=True)
        .exclude(email="")
        .order_by("-is_primary", "pk")
        .first()
    )
