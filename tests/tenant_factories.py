"""One row-maker per tenant model, for the isolation tests.

``test_every_tenant_model_has_a_factory`` fails when a new tenant model is added without
an entry here, so every tenant table is covered by the isolation tests.
"""

from classbook.accounts.models import Location, User
from classbook.accounts.services import location_save, staff_user_create

FACTORIES = {
    Location: lambda n: location_save(name=f"Isolation site {n}"),
    User: lambda n: staff_user_create(
        username=f"iso{n}", email=f"iso{n}@example.com", password="Correct-Horse-42"
    ),
}
