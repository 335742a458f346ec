"""One valid call per audited service of accounts and staff (see tests/audit)."""

from django_otp.plugins.otp_totp.models import TOTPDevice

from classbook.accounts import services as accounts
from classbook.accounts.models import Location, User
from classbook.staff import services as staff
from classbook.staff.models import UserGroup


def _operator():
    return User.everyone.get_or_create(
        username="audit-operator",
        account=None,
        defaults={"kind": User.Kind.PLATFORM, "email": "ops@example.com"},
    )[0]


def _account_create(ctx):
    return lambda: (
        accounts.account_create(
            slug="charlie-dance",
            name="Charlie Dance",
            owner_email="c@example.com",
            owner_password="Long-Pass-4242",
        ).account
    )


def _visit(ctx):
    operator = _operator()
    return lambda: staff.support_visit_start(
        operator=operator, acting_as=ctx["alice"], reason="Helping with a billing question"
    )


def _two_factor_confirm(ctx):
    device = TOTPDevice.objects.create(user=ctx["bob"], confirmed=False)
    return lambda: staff.two_factor_confirm(user=ctx["bob"], device=device)


def _visit_end(ctx):
    from classbook.staff.models import SupportVisit

    visit = SupportVisit.objects.create(
        operator=_operator(), acting_as=ctx["alice"], reason="Set up before the scenario"
    )
    return lambda: staff.support_visit_end(visit=visit)


SCENARIOS = {
    "classbook.accounts.services.account_create": _account_create,
    "classbook.accounts.services.location_save": lambda ctx: (
        lambda: accounts.location_save(location=Location.objects.first(), phone="(512) 555-0199")
    ),
    "classbook.staff.services.staff_create": lambda ctx: (
        lambda: staff.staff_create(username="newbie", email="newbie@example.com")
    ),
    "classbook.staff.services.staff_update": lambda ctx: (
        lambda: staff.staff_update(
            user=ctx["bob"],
            by=ctx["alice"],
            first_name="Robert",
            last_name="B",
            email="bob@alpha.example",
            title="Coach",
            group_ids=[],
            permission_codes=[],
            location_ids=[],
        )
    ),
    "classbook.staff.services.staff_set_active": lambda ctx: (
        lambda: staff.staff_set_active(user=ctx["bob"], by=ctx["alice"], active=False)
    ),
    "classbook.staff.services.staff_password_change": lambda ctx: (
        lambda: staff.staff_password_change(user=ctx["bob"], new_password="Another-Long-Pass-7")
    ),
    "classbook.staff.services.staff_password_set_from_link": lambda ctx: (
        lambda: staff.staff_password_set_from_link(
            user=ctx["bob"], new_password="Another-Long-Pass-8"
        )
    ),
    "classbook.staff.services.staff_send_password_link": lambda ctx: (
        lambda: staff.staff_send_password_link(user=ctx["bob"], link="http://x/", invitation=False)
    ),
    "classbook.staff.services.staff_login_record": lambda ctx: (
        lambda: staff.staff_login_record(user=ctx["bob"])
    ),
    "classbook.staff.services.two_factor_confirm": _two_factor_confirm,
    "classbook.staff.services.two_factor_remove": lambda ctx: (
        lambda: staff.two_factor_remove(user=ctx["bob"])
    ),
    "classbook.staff.services.group_save": lambda ctx: (
        lambda: staff.group_save(name="Weekend crew", permission_codes=["families.view"])
    ),
    "classbook.staff.services.group_delete": lambda ctx: (
        lambda: staff.group_delete(group=UserGroup.objects.get(name="Front Desk"))
    ),
    "classbook.staff.services.security_policy_update": lambda ctx: (
        lambda: staff.security_policy_update(require_two_factor=True)
    ),
    "classbook.staff.services.support_visit_start": _visit,
    "classbook.staff.services.support_visit_end": _visit_end,
}


# Services that write outside any account, so there is no account log to write to.
EXEMPT = {
    "classbook.accounts.services.operator_create": (
        "platform operators belong to no account; created from the CLI by the platform owner"
    ),
}
