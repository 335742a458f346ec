"""How the access matrix fills the families' URL parameters with account A's objects.

``family_id`` is shared with other apps' pages (the ledger's): whichever maker runs, the
family is remembered in the context, and guardians, students and contacts are made in it.
"""

from datetime import date

from classbook.core.tenancy import activate_account


def _family(ctx):
    from classbook.families.models import Family

    family = ctx.get("family") or ctx.get("ledger_family")
    if family is None:
        family = Family.objects.create(name="Matrix", search_text="matrix")
        ctx["family"] = family
    return family


def _in_account(make):
    def wrapper(ctx):
        with activate_account(ctx["account"]):
            return make(ctx).pk

    return wrapper


def _guardian(ctx):
    from classbook.families.models import Guardian

    family = _family(ctx)
    return Guardian.objects.filter(family=family).first() or Guardian.objects.create(
        family=family,
        first_name="Pat",
        last_name="Matrix",
        email="pat@example.com",
        is_primary=True,
    )


def _student(ctx):
    from classbook.families.models import Student

    return Student.objects.get_or_create(
        family=_family(ctx),
        first_name="Kit",
        last_name="Matrix",
        defaults={"date_of_birth": date(2017, 1, 1)},
    )[0]


def _contact(ctx):
    from classbook.families.models import EmergencyContact

    return EmergencyContact.objects.get_or_create(
        family=_family(ctx), name="Gran Matrix", defaults={"phone": "512 555 0100"}
    )[0]


def _other(ctx):
    from classbook.families.models import Family

    return Family.objects.get_or_create(name="Matrix duplicate")[0]


def _policy(ctx):
    from classbook.families.models import Policy, PolicyVersion

    policy = Policy.objects.get_or_create(name="Matrix waiver")[0]
    PolicyVersion.objects.get_or_create(policy=policy, version=1, defaults={"text": "Careful."})
    return policy


PARAMS = {
    "family_id": _in_account(_family),
    "guardian_id": _in_account(_guardian),
    "student_id": _in_account(_student),
    "contact_id": _in_account(_contact),
    "other_id": _in_account(_other),
    "policy_id": _in_account(_policy),
}
