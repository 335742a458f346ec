import pytest
from django.core.cache import cache

from classbook.core.tenancy import activate_account


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The finder caches its cards for a few seconds; tests start without."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def in_a(account_a):
    with activate_account(account_a):
        yield account_a
