"""Row-makers for the portal's tenant models (tests/core/test_isolation.py)."""

from classbook.portal.models import Checkout, PortalSettings
from tests.ledger.helpers import make_family

FACTORIES = {
    PortalSettings: lambda n: PortalSettings.objects.create(mode="off"),
    Checkout: lambda n: Checkout.objects.create(cart=f"isolation-{n}", family=make_family("Iso")),
}
