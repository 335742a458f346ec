"""The demo family generator: realistic, deterministic, consistent with the services."""

from datetime import date

from django.core.management import call_command

from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.demo.families import generate_families
from classbook.families.models import EmergencyContact, Family, Guardian, StaffNote, Student
from classbook.families.search import build_search_text
from classbook.families.selectors import family_search

TODAY = date(2026, 9, 1)


def _snapshot():
    return [
        (
            f.name,
            f.city,
            tuple((g.first_name, g.email, g.mobile_phone) for g in f.guardians.order_by("id")),
            tuple((s.first_name, s.date_of_birth, s.allergies) for s in f.students.order_by("id")),
        )
        for f in Family.objects.order_by("id")
    ]


def test_generator_is_deterministic_across_accounts(account_a, account_b):
    with activate_account(account_a):
        generate_families(count=40, seed=11, today=TODAY)
        first = _snapshot()
    with activate_account(account_b):
        generate_families(count=40, seed=11, today=TODAY)
        second = _snapshot()
    assert first == second
    with activate_account(account_a):
        generate_families(count=40, seed=12, today=TODAY)
        assert _snapshot()[40:] != first


def test_generated_families_look_real_and_match_the_services_rules(account_a):
    with activate_account(account_a):
        result = generate_families(count=300, seed=2026, today=TODAY)
        assert result.families == Family.objects.count() == 300
        students = list(Student.objects.all())
        assert 400 <= len(students) <= 500  # about 1.5 per family
        ages = {s.age(TODAY)[0] for s in students}
        assert min(ages) >= 3 and max(ages) <= 17
        assert Guardian.objects.count() > 300  # some families have two guardians
        assert Student.objects.exclude(medical_notes="").exists()
        assert Student.objects.exclude(allergies="").exists()
        assert EmergencyContact.objects.exists() and StaffNote.objects.exists()
        assert Family.objects.filter(tags__isnull=False).exists()
        for family in Family.objects.prefetch_related("guardians", "students")[:50]:
            guardians = list(family.guardians.all())
            assert sum(g.is_primary for g in guardians) == 1
            expected = build_search_text(
                family_name=family.name,
                guardians=[
                    (g.first_name, g.last_name, g.email, g.phone_digit_set)
                    for g in sorted(guardians, key=lambda g: (not g.is_primary, g.id))
                ],
                students=[(s.first_name, s.last_name) for s in family.students.order_by("id")],
            )
            assert family.search_text == expected
            assert all(g.mobile_digits and "555" in g.mobile_phone for g in guardians)
            assert all(
                g.email.endswith((".example.com", "example.com", "example.net", "example.org"))
                for g in guardians
                if g.email
            )
        some = Guardian.objects.filter(is_primary=True).order_by("id").first()
        assert some.family in list(family_search(some.mobile_phone))
        entry = LogEntry.objects.get(action="demo.families_generated")
        assert entry.changes["families"] == [None, 300]


def test_generatefamilies_command(account_a, capsys):
    call_command("generatefamilies", account="alpha", count=5, seed=3)
    assert "added 5 families" in capsys.readouterr().out
    with activate_account(account_a):
        assert Family.objects.count() == 5
