import pytest

from classbook.core.tenancy import activate_account
from tests.ledger.helpers import make_family


@pytest.fixture
def in_a(account_a):
    with activate_account(account_a):
        yield account_a


@pytest.fixture
def family(in_a):
    return make_family("Garcia")
