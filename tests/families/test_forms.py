"""Forms of the family pages: valid and invalid input."""

from datetime import date

import pytest

from classbook.families.forms import (
    AcceptanceForm,
    ContactForm,
    FamilyForm,
    GuardianForm,
    MergeConfirmForm,
    NoteForm,
    StudentForm,
    TagsForm,
    student_formset,
)
from classbook.families.services import GuardianDetails, StudentDetails
from tests.families.conftest import create_family


def test_family_form():
    form = FamilyForm({"name": "Garcia", "city": "Austin"})
    assert form.is_valid(), form.errors
    assert form.details().name == "Garcia"
    assert not FamilyForm({"name": ""}).is_valid()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_name": "", "last_name": "G"}, "first_name"),
        ({"first_name": "M", "last_name": "G", "email": "nope"}, "email"),
        ({"first_name": "M", "last_name": "G", "mobile_phone": "call me"}, "mobile_phone"),
        ({"first_name": "M", "last_name": "G", "work_phone": "123"}, "work_phone"),
    ],
)
def test_guardian_form_invalid(data, field):
    form = GuardianForm(data)
    assert not form.is_valid()
    assert field in form.errors


def test_guardian_form_valid_gives_details():
    form = GuardianForm(
        {
            "first_name": "Maria",
            "last_name": "Garcia",
            "email": "m@example.com",
            "mobile_phone": "+1 (512) 555-0142",
            "sms_opt_in": "on",
        }
    )
    assert form.is_valid(), form.errors
    details = form.details()
    assert isinstance(details, GuardianDetails) and details.sms_opt_in


def test_student_form(in_a):
    from classbook.catalog.models import Level, Program

    level = Level.objects.create(program=Program.objects.create(name="Gym"), name="Level 1")
    form = StudentForm(
        {
            "first_name": "Ana",
            "last_name": "G",
            "date_of_birth": "2017-03-04",
            "gender": "female",
            "level": level.pk,
        }
    )
    assert form.is_valid(), form.errors
    details = form.details()
    assert isinstance(details, StudentDetails)
    assert details.level == level and details.date_of_birth == date(2017, 3, 4)
    bad = StudentForm(
        {"first_name": "Ana", "last_name": "G", "date_of_birth": "04/31/2017", "gender": "cat"}
    )
    assert not bad.is_valid()
    assert {"date_of_birth", "gender"} <= set(bad.errors)


def test_student_formset_skips_blank_rows(in_a):
    data = {
        "students-TOTAL_FORMS": "3",
        "students-INITIAL_FORMS": "0",
        "students-0-first_name": "Ana",
        "students-0-last_name": "G",
        "students-0-date_of_birth": "2017-03-04",
        "students-0-gender": "female",
        "students-1-gender": "unspecified",
        "students-2-first_name": "",
        "students-2-gender": "unspecified",
    }
    formset = student_formset(data)
    assert formset.is_valid(), formset.errors
    assert [f.cleaned_data["first_name"] for f in formset.filled_forms()] == ["Ana"]
    data["students-1-first_name"] = "Leo"  # half-filled row: checked
    formset = student_formset(data)
    assert not formset.is_valid()
    assert "date_of_birth" in formset.forms[1].errors


def test_student_formset_has_a_limit(in_a):
    data = {"students-TOTAL_FORMS": "13", "students-INITIAL_FORMS": "0"}
    assert not student_formset(data).is_valid()


def test_contact_note_tags_forms():
    assert ContactForm({"name": "Rosa", "phone": "512-555-0100"}).is_valid()
    assert "phone" in ContactForm({"name": "Rosa", "phone": "x"}).errors
    assert not NoteForm({"body": ""}).is_valid()
    tags = TagsForm({"tags": "VIP, , Staff family"})
    assert tags.is_valid() and tags.names() == ["VIP", " Staff family"]


def test_acceptance_form_lists_only_this_familys_guardians(in_a):
    from classbook.families import services as svc

    family = create_family()
    other = create_family(name="Smith")
    version = svc.policy_publish(name="Waiver", text="Careful.")
    form = AcceptanceForm(family=family, versions=[version])
    assert list(form.fields["guardian"].queryset) == list(family.guardians.all())
    bound = AcceptanceForm(
        {
            "guardian": other.guardians.get().pk,
            "policy_version": version.pk,
            "method": "paper",
            "accepted_on": "2026-01-02",
        },
        family=family,
        versions=[version],
    )
    assert not bound.is_valid() and "guardian" in bound.errors


def test_merge_confirm_form_needs_the_tick(in_a):
    a, b = create_family(), create_family(name="Smith")
    form = MergeConfirmForm({"keep": str(a.pk)}, first=a, second=b)
    assert not form.is_valid() and "confirm" in form.errors
    form = MergeConfirmForm({"keep": "999", "confirm": "on"}, first=a, second=b)
    assert not form.is_valid() and "keep" in form.errors
    assert MergeConfirmForm({"keep": str(b.pk), "confirm": "on"}, first=a, second=b).is_valid()
