"""Building blocks for staff writes, used inside audited services' transactions.

Nothing here writes an audit entry: the calling service (``staff_create``,
``account_create``) writes the one entry for the whole change.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from classbook.accounts.models import User
from classbook.core.errors import ValidationFailed, validated
from classbook.core.tenancy import require_account
from classbook.staff import permissions as perms
from classbook.staff.models import UserGroup

# The groups every new account starts with (the Owner group has every permission).
DEFAULT_GROUPS: dict[str, tuple[str, list[perms.Permission]]] = {
    "Manager": (
        "Runs the business day to day; everything but staff and settings.",
        [
            perms.VIEW_DASHBOARD,
            perms.VIEW_FAMILIES,
            perms.EDIT_FAMILIES,
            perms.VIEW_LEDGER,
            perms.TAKE_PAYMENTS,
            perms.REFUND_PAYMENTS,
            perms.POST_CHARGES,
            perms.RUN_BILLING,
            perms.VIEW_CATALOG,
            perms.EDIT_CATALOG,
            perms.ENROLL,
            perms.OVERRIDE_ENROLLMENT,
            perms.TAKE_ATTENDANCE,
            perms.SEND_EMAIL,
            perms.SEND_SMS,
            perms.VIEW_REPORTS,
            perms.EXPORT_DATA,
            perms.VIEW_AUDIT,
            perms.MANAGE_PORTAL,
        ],
    ),
    "Front Desk": (
        "Families, enrollments and payments at the desk.",
        [
            perms.VIEW_DASHBOARD,
            perms.VIEW_FAMILIES,
            perms.EDIT_FAMILIES,
            perms.VIEW_LEDGER,
            perms.TAKE_PAYMENTS,
            perms.VIEW_CATALOG,
            perms.ENROLL,
            perms.TAKE_ATTENDANCE,
            perms.SEND_EMAIL,
        ],
    ),
    "Instructor": (
        "Rosters and attendance for their classes.",
        [perms.VIEW_DASHBOARD, perms.VIEW_CATALOG, perms.TAKE_ATTENDANCE],
    ),
}
OWNER_GROUP_NAME = "Owner"


def seed_user_groups() -> dict[str, UserGroup]:
    """The Owner group and the default job groups (part of creating an account)."""
    groups = {
        OWNER_GROUP_NAME: UserGroup.objects.create(
            name=OWNER_GROUP_NAME, is_owner=True, description="Everything, always."
        )
    }
    for name, (description, granted) in DEFAULT_GROUPS.items():
        groups[name] = UserGroup.objects.create(
            name=name, description=description, permissions=[p.code for p in granted]
        )
    return groups


def check_password_rules(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed({"password": list(exc.messages)}) from None


def insert_staff_user(
    *,
    username: str,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    must_change_password: bool = False,
) -> User:
    """Validate and insert a staff login (no audit entry: callers write theirs)."""
    user = User(
        account=require_account(),
        kind=User.Kind.STAFF,
        username=username.strip(),
        email=email.strip().lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        title=title.strip(),
        must_change_password=must_change_password,
    )
    if User.objects.filter(username__iexact=user.username).exists():
        raise ValidationFailed({"username": [f"“{user.username}” is already in use here."]})
    validated(user, exclude=["password"])
    if user.email and User.objects.filter(kind=User.Kind.STAFF, email__iexact=user.email).exists():
        raise ValidationFailed({"email": [f"Another staff login already uses {user.email}."]})
    if password is None:
        user.set_unusable_password()  # an invitation: the person sets it from the link
    else:
        check_password_rules(password, user)
        user.set_password(password)
    user.save()
    return user
