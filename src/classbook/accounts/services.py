"""Writes for accounts and locations (staff logins are in classbook.staff.services)."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from classbook.accounts.auth import generate_one_time_password
from classbook.accounts.models import Account, Location, User
from classbook.audit.actions import register_action
from classbook.audit.services import changes_between, created_fields, log_action, snapshot
from classbook.core.errors import ValidationFailed, validated
from classbook.core.tenancy import activate_account, require_account

ACCOUNT_CREATED = register_action("account.created", "Business account created")
LOCATION_CREATED = register_action("location.created", "Location added")
LOCATION_UPDATED = register_action("location.updated", "Location changed")


@dataclass(frozen=True)
class CreatedAccount:
    account: Account
    owner: User
    owner_password: str


@transaction.atomic
def account_create(
    *,
    slug: str,
    name: str,
    owner_email: str,
    timezone: str = "America/New_York",
    currency: str = "USD",
    owner_username: str | None = None,
    owner_password: str | None = None,
    owner_first_name: str = "",
    owner_last_name: str = "",
) -> CreatedAccount:
    """Create a business with its User Groups and first owner login.

    Without ``owner_password`` a one-time password is generated and must be changed at
    first log-in.
    """
    from classbook.staff.models import GroupMembership
    from classbook.staff.provisioning import (
        OWNER_GROUP_NAME,
        insert_staff_user,
        seed_user_groups,
    )

    slug = slug.strip().lower()
    if Account.objects.filter(slug=slug).exists():
        raise ValidationFailed({"slug": [f"The address “{slug}” is already taken."]})
    account = Account(slug=slug, name=name.strip(), timezone=timezone, currency=currency)
    validated(account)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # lost a race for the same slug
        raise ValidationFailed({"slug": [f"The address “{slug}” is already taken."]}) from None
    one_time = owner_password is None
    password = owner_password or generate_one_time_password()
    with activate_account(account):
        groups = seed_user_groups()
        owner = insert_staff_user(
            username=owner_username or owner_email.split("@")[0],
            email=owner_email,
            password=password,
            title="Owner",
            must_change_password=one_time,
            first_name=owner_first_name,
            last_name=owner_last_name,
        )
        GroupMembership.objects.create(user=owner, group=groups[OWNER_GROUP_NAME])
        log_action(
            action=ACCOUNT_CREATED,
            obj=owner,
            label=account.name,
            changes=created_fields(
                {
                    "slug": account.slug,
                    "name": account.name,
                    "timezone": account.timezone,
                    "currency": account.currency,
                    "owner": owner.username,
                }
            ),
        )
    return CreatedAccount(account=account, owner=owner, owner_password=password)


@transaction.atomic
def operator_create(*, username: str, email: str, password: str) -> User:
    """A platform operator login (belongs to no account, so it has no account audit log)."""
    user = User(
        kind=User.Kind.PLATFORM,
        account=None,
        username=username.strip(),
        email=email.strip().lower(),
        must_change_password=False,
    )
    user.set_password(password)
    validated(user, exclude=["account"])
    if User.everyone.filter(account__isnull=True, username__iexact=user.username).exists():
        raise ValidationFailed({"username": [f"“{user.username}” is already in use."]})
    user.save()
    return user


LOCATION_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "timezone",
    "phone",
    "is_active",
)


@transaction.atomic
def location_save(*, location: Location | None = None, **fields) -> Location:
    """Create (``location=None``) or update a location of the active account."""
    unknown = set(fields) - set(LOCATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown location fields: {sorted(unknown)}")
    account = require_account()
    creating = location is None
    if creating:
        location = Location(account=account, timezone=account.timezone)
    else:  # the caller's object may already carry the new values (a ModelForm did that)
        location = Location.objects.select_for_update().get(pk=location.pk)
    before = snapshot(location, LOCATION_FIELDS)
    for key, value in fields.items():
        setattr(location, key, value.strip() if isinstance(value, str) else value)
    validated(location, exclude=["account"])
    clash = Location.objects.filter(name__iexact=location.name).exclude(pk=location.pk)
    if clash.exists():
        raise ValidationFailed({"name": [f"There is already a location named “{location.name}”."]})
    location.save()
    after = snapshot(location, LOCATION_FIELDS)
    log_action(
        action=LOCATION_CREATED if creating else LOCATION_UPDATED,
        obj=location,
        changes=created_fields(after) if creating else changes_between(before, after),
    )
    return location
