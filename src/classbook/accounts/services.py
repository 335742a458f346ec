"""Writes for accounts, locations and the people who log in."""

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from classbook.accounts.models import Account, Location, User
from classbook.core.errors import ValidationFailed
from classbook.core.tenancy import activate_account, require_account


def _validated(instance, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from None


def generate_one_time_password() -> str:
    return secrets.token_urlsafe(12)


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
) -> CreatedAccount:
    """Create a business and its first owner login.

    Without ``owner_password`` a one-time password is generated and must be changed at
    first log-in.
    """
    slug = slug.strip().lower()
    if Account.objects.filter(slug=slug).exists():
        raise ValidationFailed({"slug": [f"The address “{slug}” is already taken."]})
    account = Account(slug=slug, name=name.strip(), timezone=timezone, currency=currency)
    _validated(account)
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # lost a race for the same slug
        raise ValidationFailed({"slug": [f"The address “{slug}” is already taken."]}) from None
    one_time = owner_password is None
    password = owner_password or generate_one_time_password()
    with activate_account(account):
        owner = staff_user_create(
            username=owner_username or owner_email.split("@")[0],
            email=owner_email,
            password=password,
            title="Owner",
            must_change_password=one_time,
        )
    return CreatedAccount(account=account, owner=owner, owner_password=password)


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    must_change_password: bool = False,
) -> User:
    account = require_account()
    user = User(
        account=account,
        kind=User.Kind.STAFF,
        username=username.strip(),
        email=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        title=title,
        must_change_password=must_change_password,
    )
    user.set_password(password)
    _validated(user)
    if User.objects.filter(username__iexact=user.username).exists():
        raise ValidationFailed({"username": [f"“{user.username}” is already in use here."]})
    user.save()
    return user


@transaction.atomic
def operator_create(*, username: str, email: str, password: str) -> User:
    user = User(
        kind=User.Kind.PLATFORM,
        account=None,
        username=username.strip(),
        email=email.strip().lower(),
        must_change_password=False,
    )
    user.set_password(password)
    _validated(user, exclude=["account"])
    if User.everyone.filter(account__isnull=True, username__iexact=user.username).exists():
        raise ValidationFailed({"username": [f"“{user.username}” is already in use."]})
    user.save()
    return user


@transaction.atomic
def user_change_password(*, user: User, new_password: str) -> User:
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
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
    location = location or Location(account=account, timezone=account.timezone)
    for key, value in fields.items():
        setattr(location, key, value.strip() if isinstance(value, str) else value)
    _validated(location, exclude=["account"])
    clash = Location.objects.filter(name__iexact=location.name).exclude(pk=location.pk)
    if clash.exists():
        raise ValidationFailed({"name": [f"There is already a location named “{location.name}”."]})
    location.save()
    return location
