"""One valid call per audited service of families (see tests/audit).

Each scenario is ``ctx -> call``: set-up first, then the zero-argument service call.
"""

from datetime import date

from classbook.accounts.models import User
from classbook.families import services as svc
from classbook.families.models import EmergencyContact, Guardian, Student
from tests.families.factories import make_family, make_guardian, make_version

P = "classbook.families.services."


def _guardian_details(**extra):
    return svc.GuardianDetails(
        **{"first_name": "Ana", "last_name": "Lopez", "email": "ana@example.com", **extra}
    )


def _student_details(**extra):
    return svc.StudentDetails(
        **{"first_name": "Leo", "last_name": "Lopez", "date_of_birth": date(2017, 3, 4), **extra}
    )


def _portal_user(family):
    guardian = family.guardians.get()
    user = User.objects.create(
        account=family.account,
        kind=User.Kind.GUARDIAN,
        username=f"parent{family.pk}",
        email=guardian.email,
    )
    Guardian.objects.filter(pk=guardian.pk).update(user=user)
    return user


def _second_guardian(family):
    return make_guardian(family, "second", first_name="Sam", email="sam@example.com")


SCENARIOS = {
    P + "family_create": lambda ctx: (
        lambda: svc.family_create(
            details=svc.FamilyDetails(name="Lopez"),
            guardian=_guardian_details(),
            students=[_student_details()],
        )
    ),
    P + "family_update": lambda ctx: (
        lambda f: (
            lambda: svc.family_update(
                family=f, details=svc.FamilyDetails(name="Lopez", city="Austin")
            )
        )
    )(make_family(1)),
    P + "family_set_tags": lambda ctx: (
        lambda f: lambda: svc.family_set_tags(family=f, names=["VIP"])
    )(make_family(1)),
    P + "family_merge": lambda ctx: (lambda a, b: lambda: svc.family_merge(keep=a, merge=b))(
        make_family(1, students=1), make_family(2, students=2)
    ),
    P + "guardian_add": lambda ctx: (
        lambda f: lambda: svc.guardian_add(family=f, details=_guardian_details())
    )(make_family(1)),
    P + "guardian_update": lambda ctx: (
        lambda f: (
            lambda: svc.guardian_update(guardian=f.guardians.get(), details=_guardian_details())
        )
    )(make_family(1)),
    P + "guardian_make_primary": lambda ctx: (
        lambda f: lambda: svc.guardian_make_primary(guardian=_second_guardian(f))
    )(make_family(1)),
    P + "guardian_set_active": lambda ctx: (
        lambda f: lambda: svc.guardian_set_active(guardian=_second_guardian(f), active=False)
    )(make_family(1)),
    P + "student_add": lambda ctx: (
        lambda f: lambda: svc.student_add(family=f, details=_student_details())
    )(make_family(1)),
    P + "student_update": lambda ctx: (
        lambda f: (
            lambda: svc.student_update(
                student=Student.objects.get(family=f), details=_student_details()
            )
        )
    )(make_family(1, students=1)),
    P + "student_set_active": lambda ctx: (
        lambda f: (
            lambda: svc.student_set_active(student=Student.objects.get(family=f), active=False)
        )
    )(make_family(1, students=1)),
    P + "contact_add": lambda ctx: (
        lambda f: lambda: svc.contact_add(family=f, name="Grandma", phone="512 555 0100")
    )(make_family(1)),
    P + "contact_update": lambda ctx: (
        lambda c: lambda: svc.contact_update(contact=c, name="Grandpa", phone="512 555 0101")
    )(EmergencyContact.objects.create(family=make_family(1), name="Gran", phone="5125550100")),
    P + "contact_remove": lambda ctx: (lambda c: lambda: svc.contact_remove(contact=c))(
        EmergencyContact.objects.create(family=make_family(1), name="Gran", phone="5125550100")
    ),
    P + "note_add": lambda ctx: (
        lambda f: lambda: svc.note_add(family=f, author=ctx["alice"], body="Called about makeup")
    )(make_family(1)),
    P + "policy_publish": lambda ctx: (
        lambda: svc.policy_publish(
            name="Liability waiver", text="We are not liable.", by=ctx["alice"]
        )
    ),
    P + "policy_acceptance_record": lambda ctx: (
        lambda f, v: (
            lambda: svc.policy_acceptance_record(
                guardian=f.guardians.get(), policy_version=v, recorded_by=ctx["alice"]
            )
        )
    )(make_family(1), make_version(1)),
    P + "guardian_portal_invite": lambda ctx: (
        lambda f: (
            lambda: svc.guardian_portal_invite(
                guardian=f.guardians.get(), base_url="https://example.test"
            )
        )
    )(make_family(1)),
    P + "guardian_password_set": lambda ctx: (
        lambda u: lambda: svc.guardian_password_set(user=u, new_password="Swim-Lessons-2026")
    )(_portal_user(make_family(1))),
    P + "guardian_login_record": lambda ctx: (lambda u: lambda: svc.guardian_login_record(user=u))(
        _portal_user(make_family(1))
    ),
}
