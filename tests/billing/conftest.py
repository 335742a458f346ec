import pytest

from classbook.core.tenancy import activate_account


@pytest.fixture
def in_a(account_a):
    with activate_account(account_a):
        yield account_a
