"""One row-maker per tenant model, for the isolation tests.

``test_every_tenant_model_has_a_factory`` fails when a new tenant model is added without
an entry, so every tenant table is covered by the isolation tests. Each app's tests add
theirs in ``tests/<app>/factories.py`` (a ``FACTORIES`` dict), merged here.
"""

from django.db import transaction

from classbook.accounts.models import Location, User
from classbook.accounts.services import location_save
from classbook.audit.models import LogEntry
from classbook.audit.services import log_action
from classbook.staff.models import (
    GroupMembership,
    LocationAccess,
    PermissionGrant,
    SecurityPolicy,
    SupportVisit,
    UserGroup,
)
from classbook.staff.services import group_save, staff_create
from tests.discovery import merged


def _user(n):
    return staff_create(
        username=f"iso{n}", email=f"iso{n}@example.com", password="Correct-Horse-42"
    )


def _log_entry(n):
    with transaction.atomic():
        return log_action(action="location.updated", label=f"isolation {n}")


def _support_visit(n):
    operator = User.everyone.get_or_create(
        username=f"iso-operator-{n}",
        account=None,
        defaults={"kind": User.Kind.PLATFORM, "email": "op@example.com"},
    )[0]
    return SupportVisit.objects.create(
        operator=operator, acting_as=_user(f"v{n}"), reason="isolation test visit"
    )


FACTORIES = {
    Location: lambda n: location_save(name=f"Isolation site {n}"),
    User: _user,
    LogEntry: _log_entry,
    UserGroup: lambda n: group_save(name=f"Isolation group {n}"),
    GroupMembership: lambda n: GroupMembership.objects.create(
        user=_user(f"g{n}"), group=UserGroup.objects.get(name="Owner")
    ),
    PermissionGrant: lambda n: PermissionGrant.objects.create(
        user=_user(f"p{n}"), permission="families.view"
    ),
    LocationAccess: lambda n: LocationAccess.objects.create(
        user=_user(f"l{n}"), location=Location.objects.first()
    ),
    SecurityPolicy: lambda n: SecurityPolicy.objects.create(),
    SupportVisit: _support_visit,
}


FACTORIES.update(merged("factories", "FACTORIES"))
