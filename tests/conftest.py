"""Shared fixtures: two accounts and the three people of every page test.

alice — staff of account A (permitted), bob — staff of account A (a second person; issue
#3 gives him fewer rights), charlie — staff of account B (another business).

On PostgreSQL the test database is created and migrated as the owner role, and the tests
then run as the app role, so row-level security binds every test as it binds production.
"""

import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings
from django.db import connections

from classbook.accounts.models import Account, Location, User
from classbook.accounts.services import account_create, location_save
from classbook.core.dbroles import use_credentials
from classbook.core.processes import free_port
from classbook.core.tenancy import activate_account
from classbook.staff.models import UserGroup
from classbook.staff.services import staff_create

PASSWORD = "Correct-Horse-42"

_app_credentials: dict = {}


def is_postgres() -> bool:
    return connections["default"].vendor == "postgresql"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    if settings.CLASSBOOK_DATABASE_OWNER:
        _app_credentials.update(use_credentials("default", settings.CLASSBOOK_DATABASE_OWNER))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    if _app_credentials:
        use_credentials("default", _app_credentials)
    yield
    if _app_credentials:
        with django_db_blocker.unblock():
            _end_stray_sessions()
            use_credentials("default", settings.CLASSBOOK_DATABASE_OWNER)


def _end_stray_sessions(timeout: float = 10.0) -> None:
    """End the app role's other sessions on the test database before it is dropped.

    A worker process a test killed, or a thread's connection, can outlive its test by a
    moment; DROP DATABASE at teardown then fails ("being accessed by other users") and
    leaves the database behind.
    """
    import time

    others = (
        "FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND usename = current_user"
    )
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) {others}")
        while time.monotonic() < deadline:
            cursor.execute(f"SELECT count(*) {others}")
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


def make_account(slug: str, name: str) -> Account:
    created = account_create(
        slug=slug,
        name=name,
        owner_email=f"owner@{slug}.example",
        owner_username="owner",
        owner_password=PASSWORD,
        timezone="America/Chicago",
    )
    with activate_account(created.account):
        location_save(name=f"{name} Main", city="Austin", phone="(512) 555-0100")
    return created.account


@pytest.fixture
def account_a(db) -> Account:
    return make_account("alpha", "Alpha Gym")


@pytest.fixture
def account_b(db) -> Account:
    return make_account("bravo", "Bravo Swim")


def make_staff(account: Account, username: str, *, groups: tuple[str, ...] = (), **extra) -> User:
    with activate_account(account):
        group_ids = [UserGroup.objects.get(name=name).pk for name in groups]
        return staff_create(
            username=username,
            email=f"{username}@{account.slug}.example",
            password=PASSWORD,
            first_name=username.title(),
            group_ids=group_ids,
            **extra,
        )


@pytest.fixture
def alice(account_a) -> User:
    """Account A, Owner group: every permission."""
    return make_staff(account_a, "alice", groups=("Owner",))


@pytest.fixture
def bob(account_a) -> User:
    """Account A, Instructor group only: lacks most permissions."""
    return make_staff(account_a, "bob", groups=("Instructor",))


@pytest.fixture
def charlie(account_b) -> User:
    """Account B, Owner group: everything there, nothing in account A."""
    return make_staff(account_b, "charlie", groups=("Owner",))


@pytest.fixture
def location_a(account_a) -> Location:
    with activate_account(account_a):
        return Location.objects.get()


@pytest.fixture
def location_b(account_b) -> Location:
    with activate_account(account_b):
        return Location.objects.get()


def office_login(client, account: Account, username: str) -> None:
    response = client.post(
        f"/{account.slug}/office/login/", {"username": username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:500]


def pytest_sessionstart(session):
    import os

    if os.environ.get("CLASSBOOK_TEST_REQUIRE_POSTGRES") == "1" and not is_postgres():
        pytest.exit("CLASSBOOK_TEST_REQUIRE_POSTGRES=1 but the database is not PostgreSQL", 2)


# --- the localstripe gateway sandbox, started for real on 127.0.0.1 ---------------------


@pytest.fixture(scope="session")
def sandbox_url():
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "classbook.payments.sandbox",
            "--port",
            str(port),
            "--no-persistence",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"localstripe did not start: {process.stderr.read()!r}"
                ) from None
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def gateway(account_a, sandbox_url):
    """Account A with gateway settings pointing at the sandbox."""
    from classbook.payments.services import gateway_settings_save

    with activate_account(account_a):
        return gateway_settings_save(
            publishable_key="pk_test_classbook",
            secret_key="sk_test_classbook",
            webhook_secret="whsec_classbook_tests",
            api_base=sandbox_url,
        )
