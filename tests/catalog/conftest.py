import pytest

from classbook.core import clock
from classbook.core.tenancy import activate_account
from tests.catalog.helpers import NOW


@pytest.fixture
def in_a(account_a):
    """Inside account A (Chicago), on Aug 1, 2026 at noon UTC."""
    with activate_account(account_a), clock.freeze(NOW):
        yield account_a
