"""Office pages for families (under /<account>/office/families/). Thin: parse, call a
service or selector, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from classbook.audit.selectors import object_history
from classbook.core.errors import ValidationFailed
from classbook.core.forms import add_service_errors
from classbook.core.urls import account_reverse
from classbook.families import selectors, services
from classbook.families.forms import (
    MAX_STUDENT_ROWS,
    AcceptanceForm,
    ContactForm,
    FamilyForm,
    GuardianForm,
    MergeConfirmForm,
    NoteForm,
    PolicyForm,
    StudentForm,
    TagsForm,
    student_formset,
)
from classbook.families.merge import merge_preview
from classbook.families.models import (
    EmergencyContact,
    Family,
    Guardian,
    Policy,
    PolicyVersion,
    Student,
    Tag,
)
from classbook.staff import permissions as perms
from classbook.staff.access import office_view
from classbook.staff.selectors import has_permission

PAGE_SIZE = 25
GUARDIAN_FIELDS = GuardianForm.Meta.fields
STUDENT_FIELDS = StudentForm.Meta.fields


def _family_or_404(family_id: int) -> Family:
    return get_object_or_404(Family.objects.all(), pk=family_id)


def _merged_redirect(request, family: Family):
    """A merged family's pages lead to the family it was merged into."""
    if family.merged_into_id is None:
        return None
    messages.info(
        request,
        f"The {family.name} family (#{family.pk}) was merged into this family on "
        f"{timezone.localtime(family.merged_at):%b %-d, %Y}.",
    )
    return redirect(account_reverse("families:detail", family_id=family.merged_into_id))


def _partial(request, target: str) -> bool:
    """An htmx request that only wants the ``target`` part of the page."""
    return bool(
        request.htmx and not request.htmx.history_restore_request and request.htmx.target == target
    )


def _detail_url(family: Family) -> str:
    return account_reverse("families:detail", family_id=family.pk)


def _status(form_or_forms) -> int:
    forms_ = form_or_forms if isinstance(form_or_forms, list | tuple) else [form_or_forms]
    return 400 if any(f.errors for f in forms_ if f is not None) else 200


# --- list and search ---------------------------------------------------------------------


@office_view(perms.VIEW_FAMILIES)
def family_list(request):
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.family_search(search), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "today": timezone.localdate()}
    if _partial(request, "family-results"):
        return render(request, "families/_results.html", context)
    return render(request, "families/family_list.html", context)


# --- create and edit ---------------------------------------------------------------------


def _route_errors(error: ValidationFailed, family_form, guardian_form, rows) -> None:
    """Send a service's errors to the form they belong to ("guardian.email", "students.0.x")."""
    for field, messages_ in error.errors.items():
        target_form, name = family_form, field
        if field.startswith("guardian."):
            target_form, name = guardian_form, field.removeprefix("guardian.")
        elif field.startswith("students."):
            _, index, name = field.split(".", 2)
            target_form = rows[int(index)]
        add_service_errors(target_form, ValidationFailed({name: messages_}))


def _rows_typed(data, total: int) -> list[dict]:
    rows = []
    for index in range(total):
        row = {f: data.get(f"students-{index}-{f}", "") for f in STUDENT_FIELDS}
        if any(v for f, v in row.items() if f != "gender") or row["gender"] not in (
            "",
            Student.Gender.UNSPECIFIED,
        ):
            rows.append(row)
    return rows


@office_view(perms.EDIT_FAMILIES)
def family_create(request):
    post = request.POST if request.method == "POST" else None
    if post is not None and "add_student" in post:
        # No JavaScript needed: the same page with one more student row, nothing checked yet.
        total = (
            int(post["students-TOTAL_FORMS"])
            if post.get("students-TOTAL_FORMS", "").isdigit()
            else 1
        )
        rows = _rows_typed(post, min(total, MAX_STUDENT_ROWS))
        context = {
            "family_form": FamilyForm(initial={f: post.get(f, "") for f in FamilyForm.Meta.fields}),
            "guardian_form": GuardianForm(
                initial={f: post.get(f"guardian-{f}", "") for f in GUARDIAN_FIELDS},
                prefix="guardian",
            ),
            "formset": student_formset(rows=len(rows) + 1, initial=rows),
            "duplicates": [],
        }
        return render(request, "families/family_create.html", context)
    family_form = FamilyForm(post)
    guardian_form = GuardianForm(post, prefix="guardian")
    formset = student_formset(post)
    duplicates = []
    status = 200
    if post is not None:
        valid = [family_form.is_valid(), guardian_form.is_valid(), formset.is_valid()]
        if all(valid):
            rows = formset.filled_forms()
            try:
                family = services.family_create(
                    details=family_form.details(),
                    guardian=guardian_form.details(),
                    students=[row.details() for row in rows],
                    allow_duplicate=post.get("create_anyway") == "1",
                )
            except services.DuplicateFamily as error:
                duplicates = error.matches
            except ValidationFailed as error:
                _route_errors(error, family_form, guardian_form, rows)
            else:
                messages.success(request, f"The {family.name} family is added.")
                return redirect(_detail_url(family))
        status = 409 if duplicates else 400
    return render(
        request,
        "families/family_create.html",
        {
            "family_form": family_form,
            "guardian_form": guardian_form,
            "formset": formset,
            "duplicates": duplicates,
        },
        status=status,
    )


@office_view(perms.EDIT_FAMILIES)
def family_edit(request, family_id: int):
    family = _family_or_404(family_id)
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    initial = {f: getattr(family, f) for f in FamilyForm.Meta.fields}
    form = FamilyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.family_update(family=family, details=form.details())
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Family details saved.")
            return redirect(_detail_url(family))
    return render(
        request,
        "families/family_form.html",
        {"form": form, "family": family},
        status=_status(form),
    )


# --- the family page ---------------------------------------------------------------------


def _detail_context(request, family: Family, **extra) -> dict:
    versions = selectors.open_policy_versions()
    return {
        "family": family,
        "can_edit": has_permission(request.user, perms.EDIT_FAMILIES),
        "guardians": list(family.guardians.all()),
        "students": list(family.students.all()),
        "contacts": list(family.emergency_contacts.all()),
        "tags": [link.tag for link in family.tag_links],
        "known_tags": Tag.objects.order_by("name").values_list("name", flat=True),
        "notes": selectors.family_notes(family),
        "acceptances": selectors.family_acceptances(family),
        "open_versions": versions,
        "history": object_history(family),
        "note_form": extra.pop("note_form", None) or NoteForm(),
        "tags_form": TagsForm(initial={"tags": ", ".join(t.tag.name for t in family.tag_links)}),
        **extra,
    }


@office_view(perms.VIEW_FAMILIES)
def family_detail(request, family_id: int):
    family = selectors.family_for_page(family_id)
    if family is None:
        raise Http404("No such family")
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    return render(request, "families/family_detail.html", _detail_context(request, family))


@office_view(perms.EDIT_FAMILIES)
@require_POST
def note_add(request, family_id: int):
    family = _family_or_404(family_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_add(family=family, author=request.user, body=form.cleaned_data["body"])
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            form = NoteForm()
    if request.htmx:
        return render(
            request,
            "families/_notes.html",
            {"family": family, "notes": selectors.family_notes(family), "note_form": form},
        )
    if form.errors:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    else:
        messages.success(request, "Note added.")
    return redirect(_detail_url(family) + "#notes")


@office_view(perms.EDIT_FAMILIES)
@require_POST
def tags_set(request, family_id: int):
    family = _family_or_404(family_id)
    form = TagsForm(request.POST)
    if form.is_valid():
        try:
            services.family_set_tags(family=family, names=form.names())
        except ValidationFailed as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Tags saved.")
    else:
        messages.error(request, "Tags were not saved: the list is too long.")
    return redirect(_detail_url(family))


# --- guardians ---------------------------------------------------------------------------


def _guardian_or_404(family_id: int, guardian_id: int) -> Guardian:
    return get_object_or_404(
        Guardian.objects.select_related("family", "user"), pk=guardian_id, family_id=family_id
    )


@office_view(perms.EDIT_FAMILIES)
def guardian_add(request, family_id: int):
    family = _family_or_404(family_id)
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    form = GuardianForm(request.POST or None, initial={"last_name": family.name})
    if request.method == "POST" and form.is_valid():
        try:
            guardian = services.guardian_add(
                family=family,
                details=form.details(),
                make_primary=request.POST.get("make_primary") == "1",
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{guardian.full_name} is added.")
            return redirect(_detail_url(family))
    return render(
        request,
        "families/person_form.html",
        {"form": form, "family": family, "what": "guardian", "person": None},
        status=_status(form),
    )


@office_view(perms.EDIT_FAMILIES)
def guardian_edit(request, family_id: int, guardian_id: int):
    guardian = _guardian_or_404(family_id, guardian_id)
    family = guardian.family
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    initial = {f: getattr(guardian, f) for f in GUARDIAN_FIELDS}
    form = GuardianForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.guardian_update(guardian=guardian, details=form.details())
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{guardian.full_name} is saved.")
            return redirect(_detail_url(family))
    return render(
        request,
        "families/person_form.html",
        {"form": form, "family": family, "what": "guardian", "person": guardian},
        status=_status(form),
    )


def _post_action(request, family: Family, action, success: str):
    try:
        action()
    except ValidationFailed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return redirect(_detail_url(family))


@office_view(perms.EDIT_FAMILIES)
@require_POST
def guardian_make_primary(request, family_id: int, guardian_id: int):
    guardian = _guardian_or_404(family_id, guardian_id)
    return _post_action(
        request,
        guardian.family,
        lambda: services.guardian_make_primary(guardian=guardian),
        f"{guardian.full_name} is now the primary guardian.",
    )


@office_view(perms.EDIT_FAMILIES)
@require_POST
def guardian_set_active(request, family_id: int, guardian_id: int, active: bool):
    guardian = _guardian_or_404(family_id, guardian_id)
    return _post_action(
        request,
        guardian.family,
        lambda: services.guardian_set_active(guardian=guardian, active=active),
        f"{guardian.full_name} is {'restored' if active else 'removed from this family'}.",
    )


@office_view(perms.EDIT_FAMILIES)
@require_POST
def guardian_invite(request, family_id: int, guardian_id: int):
    guardian = _guardian_or_404(family_id, guardian_id)
    base_url = f"{request.scheme}://{request.get_host()}"
    return _post_action(
        request,
        guardian.family,
        lambda: services.guardian_portal_invite(guardian=guardian, base_url=base_url),
        f"We emailed {guardian.email} a link to choose a portal password.",
    )


# --- students ----------------------------------------------------------------------------


def _student_or_404(family_id: int, student_id: int) -> Student:
    return get_object_or_404(
        Student.objects.select_related("family", "level"), pk=student_id, family_id=family_id
    )


@office_view(perms.EDIT_FAMILIES)
def student_add(request, family_id: int):
    family = _family_or_404(family_id)
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    form = StudentForm(request.POST or None, initial={"last_name": family.name})
    if request.method == "POST" and form.is_valid():
        try:
            student = services.student_add(family=family, details=form.details())
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{student.full_name} is added.")
            return redirect(_detail_url(family))
    return render(
        request,
        "families/person_form.html",
        {"form": form, "family": family, "what": "student", "person": None},
        status=_status(form),
    )


@office_view(perms.EDIT_FAMILIES)
def student_edit(request, family_id: int, student_id: int):
    student = _student_or_404(family_id, student_id)
    family = student.family
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    initial = {f: getattr(student, f) for f in STUDENT_FIELDS}
    form = StudentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.student_update(student=student, details=form.details())
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{student.full_name} is saved.")
            return redirect(_detail_url(family))
    return render(
        request,
        "families/person_form.html",
        {"form": form, "family": family, "what": "student", "person": student},
        status=_status(form),
    )


@office_view(perms.EDIT_FAMILIES)
@require_POST
def student_set_active(request, family_id: int, student_id: int, active: bool):
    student = _student_or_404(family_id, student_id)
    return _post_action(
        request,
        student.family,
        lambda: services.student_set_active(student=student, active=active),
        f"{student.full_name} is {'restored' if active else 'removed'}.",
    )


# --- emergency contacts ------------------------------------------------------------------


@office_view(perms.EDIT_FAMILIES)
def contact_add(request, family_id: int):
    family = _family_or_404(family_id)
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    return _contact_form(request, family, None)


@office_view(perms.EDIT_FAMILIES)
def contact_edit(request, family_id: int, contact_id: int):
    contact = get_object_or_404(
        EmergencyContact.objects.select_related("family"), pk=contact_id, family_id=family_id
    )
    if (moved := _merged_redirect(request, contact.family)) is not None:
        return moved
    return _contact_form(request, contact.family, contact)


def _contact_form(request, family: Family, contact: EmergencyContact | None):
    initial = None
    if contact is not None:
        initial = {f: getattr(contact, f) for f in ContactForm.Meta.fields}
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if contact is None:
                services.contact_add(family=family, **form.cleaned_data)
            else:
                services.contact_update(contact=contact, **form.cleaned_data)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Emergency contact saved.")
            return redirect(_detail_url(family) + "#contacts")
    return render(
        request,
        "families/person_form.html",
        {"form": form, "family": family, "what": "emergency contact", "person": contact},
        status=_status(form),
    )


@office_view(perms.EDIT_FAMILIES)
@require_POST
def contact_remove(request, family_id: int, contact_id: int):
    contact = get_object_or_404(
        EmergencyContact.objects.select_related("family"), pk=contact_id, family_id=family_id
    )
    return _post_action(
        request,
        contact.family,
        lambda: services.contact_remove(contact=contact),
        f"{contact.name} is removed from the emergency contacts.",
    )


# --- accepted policies -------------------------------------------------------------------


@office_view(perms.EDIT_FAMILIES)
def acceptance_add(request, family_id: int):
    family = _family_or_404(family_id)
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    versions = selectors.open_policy_versions()
    form = AcceptanceForm(request.POST or None, family=family, versions=versions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        accepted_on: dt.date = data["accepted_on"]
        now = timezone.localtime()
        accepted_at = (
            now
            if accepted_on == now.date()
            else timezone.make_aware(dt.datetime.combine(accepted_on, dt.time(12)))
        )
        try:
            services.policy_acceptance_record(
                guardian=data["guardian"],
                policy_version=data["policy_version"],
                method=data["method"],
                accepted_at=accepted_at,
                recorded_by=request.user,
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Acceptance recorded.")
            return redirect(_detail_url(family) + "#policies")
    return render(
        request,
        "families/acceptance_form.html",
        {"form": form, "family": family, "versions": versions},
        status=_status(form),
    )


# --- merge -------------------------------------------------------------------------------


@office_view(perms.EDIT_FAMILIES)
def merge_start(request, family_id: int):
    """Step 1: find the duplicate to merge with this family."""
    family = _family_or_404(family_id)
    if (moved := _merged_redirect(request, family)) is not None:
        return moved
    search = request.GET.get("q", "").strip()
    candidates = []
    if search:
        candidates = list(selectors.family_search(search).exclude(pk=family.pk)[:20])
    context = {"family": family, "search": search, "candidates": candidates}
    if _partial(request, "merge-candidates"):
        return render(request, "families/_merge_candidates.html", context)
    return render(request, "families/merge_start.html", context)


@office_view(perms.EDIT_FAMILIES)
def merge_confirm(request, family_id: int, other_id: int):
    """Step 2: both families side by side, what will move, and the confirmation."""
    first, second = _family_or_404(family_id), _family_or_404(other_id)
    for family in (first, second):
        if (moved := _merged_redirect(request, family)) is not None:
            return moved
    if first.pk == second.pk:
        messages.error(request, "Choose another family to merge with.")
        return redirect(account_reverse("families:merge", family_id=first.pk))
    form = MergeConfirmForm(request.POST or None, first=first, second=second)
    if request.method == "POST" and form.is_valid():
        keep, merge = (
            (first, second) if form.cleaned_data["keep"] == str(first.pk) else (second, first)
        )
        try:
            services.family_merge(keep=keep, merge=merge)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, f"The {merge.name} family (#{merge.pk}) is merged into this family."
            )
            return redirect(_detail_url(keep))
    sides = []
    for family, other in ((first, second), (second, first)):
        sides.append(
            {
                "family": selectors.family_for_page(family.pk),
                "moves": [
                    (hook.label, items) for hook, items in merge_preview(other, family) if items
                ],
            }
        )
    return render(
        request,
        "families/merge_confirm.html",
        {"first": first, "second": second, "sides": sides, "form": form},
        status=_status(form),
    )


# --- policies and waivers ----------------------------------------------------------------


@office_view(perms.VIEW_FAMILIES)
def policy_list(request):
    return render(
        request,
        "families/policy_list.html",
        {"policies": selectors.policies_with_versions()},
    )


@office_view(perms.VIEW_FAMILIES)
def policy_detail(request, policy_id: int):
    policy = get_object_or_404(Policy.objects.all(), pk=policy_id)
    versions = list(PolicyVersion.objects.filter(policy=policy).select_related("published_by"))
    return render(
        request,
        "families/policy_detail.html",
        {"policy": policy, "versions": versions, "history": object_history(policy)},
    )


@office_view(perms.MANAGE_SETTINGS)
def policy_create(request):
    return _policy_form(request, None)


@office_view(perms.MANAGE_SETTINGS)
def policy_revise(request, policy_id: int):
    return _policy_form(request, get_object_or_404(Policy.objects.all(), pk=policy_id))


def _policy_form(request, policy: Policy | None):
    initial = None
    if policy is not None:
        latest = PolicyVersion.objects.filter(policy=policy).order_by("-version").first()
        initial = {"name": policy.name, "kind": policy.kind, "text": latest.text if latest else ""}
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.policy_publish(policy=policy, by=request.user, **form.cleaned_data)
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{version} is published.")
            return redirect(account_reverse("families:policy_detail", policy_id=version.policy_id))
    return render(
        request,
        "families/policy_form.html",
        {"form": form, "policy": policy},
        status=_status(form),
    )
