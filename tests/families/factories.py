"""Row-makers for families models (merged into tests/tenant_factories.py), and small
helpers that build families straight in the database (no audit entries)."""

from datetime import date

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


def make_family(n, *, name=None, guardian=True, students=0) -> Family:
    family = Family.objects.create(name=name or f"Isolation {n}", search_text=f"isolation {n}")
    if guardian:
        make_guardian(family, n, is_primary=True)
    for index in range(students):
        Student.objects.create(
            family=family,
            first_name=f"Kid{index}",
            last_name=family.name,
            date_of_birth=date(2018, 5, 1),
        )
    return family


def make_guardian(family, n, *, is_primary=False, **extra) -> Guardian:
    values = {
        "first_name": "Pat",
        "last_name": family.name,
        "email": f"pat{n}@example.com",
        "mobile_phone": "(512) 555-0100",
        **extra,
    }
    return Guardian.objects.create(family=family, is_primary=is_primary, **values)


def make_version(n) -> PolicyVersion:
    policy = Policy.objects.create(name=f"Waiver {n}")
    return PolicyVersion.objects.create(policy=policy, version=1, text="Be careful.")


def _acceptance(n):
    family = make_family(f"a{n}")
    return PolicyAcceptance.objects.create(
        family=family, guardian=family.guardians.get(), policy_version=make_version(f"a{n}")
    )


def _family_tag(n):
    return FamilyTag.objects.create(
        family=make_family(f"t{n}"), tag=Tag.objects.create(name=f"Tag t{n}")
    )


FACTORIES = {
    Family: make_family,
    Tag: lambda n: Tag.objects.create(name=f"Tag {n}"),
    FamilyTag: _family_tag,
    Guardian: lambda n: make_guardian(make_family(f"g{n}", guardian=False), n, is_primary=True),
    Student: lambda n: Student.objects.create(
        family=make_family(f"s{n}"),
        first_name="Kid",
        last_name="Isolation",
        date_of_birth=date(2018, 5, 1),
    ),
    EmergencyContact: lambda n: EmergencyContact.objects.create(
        family=make_family(f"c{n}"), name="Grandma", phone="512-555-0199"
    ),
    StaffNote: lambda n: StaffNote.objects.create(family=make_family(f"n{n}"), body="Hello"),
    Policy: lambda n: Policy.objects.create(name=f"Policy {n}"),
    PolicyVersion: make_version,
    PolicyAcceptance: _acceptance,
}
