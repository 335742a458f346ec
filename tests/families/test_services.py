"""Family services: valid input is saved and audited; bad input is refused, nothing saved."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from classbook.accounts.models import User
from classbook.audit.models import LogEntry
from classbook.core.errors import ValidationFailed
from classbook.families import services as svc
from classbook.families.models import (
    EmergencyContact,
    Family,
    FamilyTag,
    Guardian,
    Policy,
    PolicyAcceptance,
    StaffNote,
    Student,
    Tag,
)
from tests.families.conftest import create_family, guardian_details, student_details


def _entries(family):
    return list(
        LogEntry.objects.filter(object_type="families.family", object_id=str(family.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- create --------------------------------------------------------------------------


def test_create_family_with_guardian_and_students(garcia):
    assert garcia.name == "Garcia"
    guardian = Guardian.objects.get(family=garcia)
    assert guardian.is_primary and guardian.is_active
    assert guardian.mobile_digits == "5125550142"
    assert sorted(Student.objects.filter(family=garcia).values_list("first_name", flat=True)) == [
        "Ana",
        "Leo",
    ]
    assert _entries(garcia) == ["family.created"]
    entry = LogEntry.objects.get(action="family.created")
    assert entry.changes["guardian"] == [None, "Maria Garcia"]
    assert entry.changes["students"] == [None, ["Ana Garcia", "Leo Garcia"]]
    assert "address_line1" not in entry.changes  # empty fields are not listed


def test_create_builds_search_text(garcia):
    text = Family.objects.get(pk=garcia.pk).search_text
    for part in ("garcia", "maria", "maria.garcia@example.com", "5125550142", "ana", "leo"):
        assert part in text
    assert text.startswith("garcia |")


def test_email_is_stored_lower_case_and_names_trimmed(in_a):
    family = create_family(
        name="  Nguyen ",
        guardian=guardian_details(
            first_name=" Linh ", last_name="Nguyen", email="Linh@Example.COM"
        ),
    )
    guardian = family.guardians.get()
    assert family.name == "Nguyen"
    assert guardian.first_name == "Linh"
    assert guardian.email == "linh@example.com"


@pytest.mark.parametrize(
    ("guardian", "students", "field"),
    [
        ({"email": "not-an-email"}, None, "guardian.email"),
        ({"mobile_phone": "call me"}, None, "guardian.mobile_phone"),
        ({"home_phone": "12"}, None, "guardian.home_phone"),
        ({"first_name": ""}, None, "guardian.first_name"),
        ({"email": "", "mobile_phone": ""}, None, "guardian.email"),
        (
            {"sms_opt_in": True, "mobile_phone": "", "home_phone": "5125550100"},
            None,
            "guardian.sms_opt_in",
        ),
        ({}, [{"date_of_birth": date.today() + timedelta(days=2)}], "students.0.date_of_birth"),
        ({}, [{}, {"date_of_birth": date(1900, 1, 1)}], "students.1.date_of_birth"),
        ({}, [{"date_of_birth": None}], "students.0.date_of_birth"),
        ({}, [{"first_name": ""}], "students.0.first_name"),
        ({}, [{"gender": "robot"}], "students.0.gender"),
    ],
)
def test_create_refuses_bad_input_and_saves_nothing(in_a, guardian, students, field):
    students_in = [student_details(**s) for s in (students or [{}])]
    with pytest.raises(ValidationFailed) as caught:
        create_family(guardian=guardian_details(**guardian), students=students_in)
    assert field in caught.value.errors, caught.value.errors
    assert not Family.objects.exists()
    assert not Guardian.objects.exists()
    assert not Student.objects.exists()
    assert not LogEntry.objects.filter(action="family.created").exists()


def test_create_reports_every_bad_field_at_once(in_a):
    with pytest.raises(ValidationFailed) as caught:
        svc.family_create(
            details=svc.FamilyDetails(name=""),
            guardian=guardian_details(email="nope"),
            students=[student_details(date_of_birth=date.today() + timedelta(days=1))],
        )
    assert {"name", "guardian.email", "students.0.date_of_birth"} <= set(caught.value.errors)


def test_student_level_must_belong_to_this_account(in_a, account_b):
    from classbook.catalog.models import Level, Program
    from classbook.core.tenancy import activate_account

    with activate_account(account_b):
        other = Level.objects.create(program=Program.objects.create(name="Swim"), name="Guppy")
    with pytest.raises(ValidationFailed) as caught:
        create_family(students=[student_details(level=other)])
    assert "students.0.level" in caught.value.errors


def test_student_with_a_level(in_a):
    from classbook.catalog.models import Level, Program

    level = Level.objects.create(program=Program.objects.create(name="Gymnastics"), name="Level 2")
    family = create_family(students=[student_details(level=level)])
    assert family.students.get().level == level


# --- duplicates ------------------------------------------------------------------------


def test_duplicate_by_last_name_and_email_is_refused_unless_confirmed(garcia):
    with pytest.raises(svc.DuplicateFamily) as caught:
        create_family(guardian=guardian_details(first_name="Jose", mobile_phone="512 555 9999"))
    assert caught.value.matches == [garcia]
    assert Family.objects.count() == 1
    again = create_family(
        guardian=guardian_details(first_name="Jose", mobile_phone="512 555 9999"),
        allow_duplicate=True,
    )
    assert Family.objects.count() == 2
    assert LogEntry.objects.get(object_id=str(again.pk)).changes["duplicate_confirmed"] == [
        None,
        True,
    ]


def test_duplicate_by_phone_in_another_format(garcia):
    with pytest.raises(svc.DuplicateFamily):
        create_family(
            guardian=guardian_details(email="other@example.com", mobile_phone="512.555.0142")
        )


def test_same_email_but_another_last_name_is_not_a_duplicate(garcia):
    create_family(name="Smith", guardian=guardian_details(last_name="Smith"))
    assert Family.objects.count() == 2


def test_same_last_name_without_shared_contact_is_not_a_duplicate(garcia):
    create_family(guardian=guardian_details(email="g2@example.com", mobile_phone="(737) 555-1000"))
    assert Family.objects.count() == 2


# --- update ------------------------------------------------------------------------------


def test_family_update_is_audited_with_the_change(garcia):
    svc.family_update(family=garcia, details=svc.FamilyDetails(name="Garcia-Lopez", city="Austin"))
    garcia.refresh_from_db()
    assert garcia.name == "Garcia-Lopez"
    assert garcia.search_text.startswith("garcia-lopez |")
    entry = LogEntry.objects.filter(action="family.updated").get()
    assert entry.changes == {"name": ["Garcia", "Garcia-Lopez"]}


def test_family_update_refuses_a_blank_name(garcia):
    with pytest.raises(ValidationFailed) as caught:
        svc.family_update(family=garcia, details=svc.FamilyDetails(name="  "))
    assert "name" in caught.value.errors
    assert Family.objects.get(pk=garcia.pk).name == "Garcia"


# --- guardians ---------------------------------------------------------------------------


def test_add_second_guardian_and_make_primary(garcia):
    second = svc.guardian_add(
        family=garcia, details=guardian_details(first_name="Jose", email="jose@example.com")
    )
    assert not second.is_primary
    svc.guardian_make_primary(guardian=second)
    primaries = Guardian.objects.filter(family=garcia, is_primary=True)
    assert list(primaries) == [second]
    assert "jose@example.com" in Family.objects.get(pk=garcia.pk).search_text
    assert _entries(garcia)[-2:] == ["family.guardian_added", "family.guardian_made_primary"]


def test_add_guardian_as_primary_demotes_the_old_one(garcia):
    new = svc.guardian_add(
        family=garcia, details=guardian_details(first_name="Jose"), make_primary=True
    )
    assert Guardian.objects.get(family=garcia, is_primary=True) == new


def test_database_allows_only_one_primary_guardian(garcia):
    with pytest.raises(IntegrityError), transaction.atomic():
        Guardian.objects.create(family=garcia, first_name="X", last_name="Y", is_primary=True)


def test_removing_the_primary_guardian_passes_the_role_on(garcia):
    maria = garcia.guardians.get()
    jose = svc.guardian_add(family=garcia, details=guardian_details(first_name="Jose"))
    svc.guardian_set_active(guardian=maria, active=False)
    maria.refresh_from_db()
    jose.refresh_from_db()
    assert not maria.is_active and not maria.is_primary
    assert jose.is_primary
    entry = LogEntry.objects.filter(action="family.guardian_removed").get()
    assert entry.changes["Maria Garcia · primary_guardian"] == ["Maria Garcia", "Jose Garcia"]


def test_the_last_guardian_cannot_be_removed(garcia):
    with pytest.raises(ValidationFailed, match="at least one guardian"):
        svc.guardian_set_active(guardian=garcia.guardians.get(), active=False)
    assert garcia.guardians.get().is_active


def test_restoring_a_guardian(garcia):
    jose = svc.guardian_add(family=garcia, details=guardian_details(first_name="Jose"))
    svc.guardian_set_active(guardian=jose, active=False)
    svc.guardian_set_active(guardian=jose, active=True)
    jose.refresh_from_db()
    assert jose.is_active and not jose.is_primary


def test_guardian_update_refuses_bad_phone_and_keeps_the_old_one(garcia):
    maria = garcia.guardians.get()
    with pytest.raises(ValidationFailed) as caught:
        svc.guardian_update(guardian=maria, details=guardian_details(mobile_phone="abc"))
    assert "mobile_phone" in caught.value.errors
    maria.refresh_from_db()
    assert maria.mobile_phone == "(512) 555-0142"


def test_guardian_update_records_the_changed_fields(garcia):
    maria = garcia.guardians.get()
    svc.guardian_update(guardian=maria, details=guardian_details(work_phone="512-555-7777 x12"))
    maria.refresh_from_db()
    assert maria.work_digits == "5125557777"
    entry = LogEntry.objects.filter(action="family.guardian_changed").get()
    assert entry.changes == {"Maria Garcia · work_phone": ["", "512-555-7777 x12"]}


# --- students ----------------------------------------------------------------------------


def test_add_update_remove_restore_student(garcia):
    kid = svc.student_add(
        family=garcia, details=student_details(first_name="Sofia", date_of_birth=date(2020, 1, 2))
    )
    assert "sofia" in Family.objects.get(pk=garcia.pk).search_text
    svc.student_update(
        student=kid,
        details=student_details(
            first_name="Sofia", date_of_birth=date(2020, 1, 2), allergies="Peanuts"
        ),
    )
    kid.refresh_from_db()
    assert kid.allergies == "Peanuts"
    svc.student_set_active(student=kid, active=False)
    kid.refresh_from_db()
    assert not kid.is_active
    svc.student_set_active(student=kid, active=True)
    assert _entries(garcia)[-4:] == [
        "family.student_added",
        "family.student_changed",
        "family.student_removed",
        "family.student_restored",
    ]


def test_student_date_of_birth_in_the_future_is_refused(garcia):
    kid = garcia.students.first()
    with pytest.raises(ValidationFailed) as caught:
        svc.student_update(
            student=kid, details=student_details(date_of_birth=date.today() + timedelta(days=30))
        )
    assert caught.value.errors["date_of_birth"] == ["The date of birth is in the future."]


def test_student_age(garcia):
    kid = Student(date_of_birth=date(2017, 3, 4))
    assert kid.age(date(2024, 3, 3)) == (6, 11)
    assert kid.age(date(2024, 3, 4)) == (7, 0)
    assert Student(date_of_birth=date(2020, 1, 31)).age(date(2020, 3, 1)) == (0, 1)


# --- contacts, notes, tags ---------------------------------------------------------------


def test_contacts_add_update_remove(garcia):
    contact = svc.contact_add(
        family=garcia, name="Rosa Diaz", relationship="Aunt", phone="512 555 3030"
    )
    assert contact.phone_digits == "5125553030"
    svc.contact_update(contact=contact, name="Rosa Diaz", relationship="Aunt", phone="512 555 3031")
    svc.contact_remove(contact=contact)
    assert not EmergencyContact.objects.exists()
    removed = LogEntry.objects.get(action="family.contact_removed")
    assert removed.changes["name"] == ["Rosa Diaz", None]


def test_contact_needs_a_valid_phone(garcia):
    with pytest.raises(ValidationFailed) as caught:
        svc.contact_add(family=garcia, name="Rosa", phone="nope")
    assert "phone" in caught.value.errors


def test_note_add_and_empty_note_refused(garcia, alice):
    note = svc.note_add(family=garcia, author=alice, body="  Called about the makeup class.  ")
    assert note.body == "Called about the makeup class."
    assert note.author == alice
    with pytest.raises(ValidationFailed):
        svc.note_add(family=garcia, author=alice, body="   ")
    assert StaffNote.objects.count() == 1


def test_set_tags_creates_reuses_and_removes(garcia):
    svc.family_set_tags(family=garcia, names=["VIP", " staff  family ", "vip"])
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["VIP", "staff family"]
    svc.family_set_tags(family=garcia, names=["Vip"])
    assert [ft.tag.name for ft in FamilyTag.objects.filter(family=garcia)] == ["VIP"]
    assert Tag.objects.count() == 2
    entries = LogEntry.objects.filter(action="family.tags_changed").order_by("id")
    assert [e.changes["tags"] for e in entries] == [
        [[], ["VIP", "staff family"]],
        [["VIP", "staff family"], ["VIP"]],
    ]
    svc.family_set_tags(family=garcia, names=["VIP"])  # no change, no entry
    assert entries.count() == 2


# --- policies ----------------------------------------------------------------------------


def test_policy_versions_and_acceptance(garcia, alice):
    v1 = svc.policy_publish(name="Liability waiver", text="Version one.", kind="waiver", by=alice)
    maria = garcia.guardians.get()
    svc.policy_acceptance_record(guardian=maria, policy_version=v1, recorded_by=alice)
    v2 = svc.policy_publish(policy=v1.policy, name="Liability waiver", text="Version two.")
    assert (v1.version, v2.version) == (1, 2)
    assert Policy.objects.count() == 1
    acceptance = PolicyAcceptance.objects.get()
    assert acceptance.policy_version == v1 and acceptance.accepted_by == alice
    with pytest.raises(ValidationFailed, match="already accepted"):
        svc.policy_acceptance_record(guardian=maria, policy_version=v1)
    svc.policy_acceptance_record(guardian=maria, policy_version=v2, method="paper")
    assert PolicyAcceptance.objects.count() == 2


def test_policy_name_unique_and_text_required(in_a):
    svc.policy_publish(name="Studio rules", text="Be kind.")
    with pytest.raises(ValidationFailed) as caught:
        svc.policy_publish(name="studio RULES", text="")
    assert set(caught.value.errors) == {"name", "text"}


def test_acceptance_in_the_future_is_refused(garcia):
    from classbook.core import clock

    version = svc.policy_publish(name="Photo release", text="We may take photos.")
    with pytest.raises(ValidationFailed) as caught:
        svc.policy_acceptance_record(
            guardian=garcia.guardians.get(),
            policy_version=version,
            accepted_at=clock.now() + timedelta(days=1),
        )
    assert "accepted_at" in caught.value.errors


# --- portal invitation -------------------------------------------------------------------


def test_invite_creates_a_guardian_login_and_emails_a_link(
    garcia, django_capture_on_commit_callbacks
):
    maria = garcia.guardians.get()
    with django_capture_on_commit_callbacks(execute=True):
        user = svc.guardian_portal_invite(guardian=maria, base_url="https://gym.example")
    assert user.kind == User.Kind.GUARDIAN
    assert user.account_id == garcia.account_id
    assert user.username == "maria.garcia@example.com"
    assert not user.has_usable_password()
    maria.refresh_from_db()
    assert maria.user == user
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maria.garcia@example.com"]
    assert "https://gym.example/alpha/portal/password/" in mail.outbox[0].body


def test_invite_needs_an_email(garcia):
    jose = svc.guardian_add(
        family=garcia,
        details=guardian_details(first_name="Jose", email="", mobile_phone="5125550000"),
    )
    with pytest.raises(ValidationFailed) as caught:
        svc.guardian_portal_invite(guardian=jose, base_url="https://x")
    assert "email" in caught.value.errors
    assert not User.objects.filter(kind=User.Kind.GUARDIAN).exists()


def test_two_guardians_of_one_family_get_their_own_logins(garcia):
    maria = garcia.guardians.get()
    jose = svc.guardian_add(
        family=garcia, details=guardian_details(first_name="Jose", email="jose@example.com")
    )
    first = svc.guardian_portal_invite(guardian=maria, base_url="https://x")
    second = svc.guardian_portal_invite(guardian=jose, base_url="https://x")
    assert first.pk != second.pk
    again = svc.guardian_portal_invite(guardian=maria, base_url="https://x")
    assert again.pk == first.pk
    assert User.objects.filter(kind=User.Kind.GUARDIAN).count() == 2


def test_removing_a_guardian_turns_off_their_login(garcia):
    maria = garcia.guardians.get()
    svc.guardian_add(family=garcia, details=guardian_details(first_name="Jose"))
    user = svc.guardian_portal_invite(guardian=maria, base_url="https://x")
    svc.guardian_set_active(guardian=maria, active=False)
    user.refresh_from_db()
    assert not user.is_active


def test_changing_the_guardian_email_changes_the_login_email(garcia):
    maria = garcia.guardians.get()
    user = svc.guardian_portal_invite(guardian=maria, base_url="https://x")
    svc.guardian_update(guardian=maria, details=guardian_details(email="maria@new.example"))
    user.refresh_from_db()
    assert user.email == "maria@new.example"


def test_guardian_password_set(garcia):
    user = svc.guardian_portal_invite(guardian=garcia.guardians.get(), base_url="https://x")
    with pytest.raises(ValidationFailed):
        svc.guardian_password_set(user=user, new_password="short")
    svc.guardian_password_set(user=user, new_password="Cartwheel-Summer-26")
    user.refresh_from_db()
    assert user.check_password("Cartwheel-Summer-26")


# --- services refuse merged families -----------------------------------------------------


def test_a_merged_family_cannot_be_changed(garcia):
    other = create_family(
        name="Lopez", guardian=guardian_details(last_name="Lopez", email="l@example.com")
    )
    svc.family_merge(keep=garcia, merge=other)
    with pytest.raises(ValidationFailed, match="merged"):
        svc.note_add(family=other, author=None, body="hello")
