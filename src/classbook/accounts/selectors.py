"""Reads shared by pages, commands and the API."""

from django.db.models import Count, Q, QuerySet

from classbook.accounts.models import Account, Location, User


def account_by_slug(slug: str) -> Account | None:
    return Account.objects.filter(slug=slug).first()


def location_list(*, search: str = "") -> QuerySet[Location]:
    queryset = Location.objects.all()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(city__icontains=search))
    return queryset


def staff_list() -> QuerySet[User]:
    return User.objects.filter(kind=User.Kind.STAFF)


def platform_account_list(*, search: str = "", status: str = "") -> QuerySet[Account]:
    queryset = Account.objects.all()
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def platform_account_summary(account: Account) -> dict:
    """Counts an operator may see; runs inside the account so row security allows it."""
    from classbook.core.tenancy import activate_account

    with activate_account(account):
        counts = User.objects.aggregate(
            staff=Count("pk", filter=Q(kind=User.Kind.STAFF, is_active=True)),
            guardians=Count("pk", filter=Q(kind=User.Kind.GUARDIAN)),
        )
        return {"locations": list(Location.objects.all()), **counts}
