"""``createaccount`` and ``createoperator``: create what they say, or change nothing."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from classbook.accounts.models import Account, User
from classbook.core.tenancy import activate_account


def create_account(*args: str) -> str:
    out = StringIO()
    call_command("createaccount", *args, stdout=out)
    return out.getvalue()


def one_time_password(output: str) -> str:
    match = re.search(r"one-time password \(change at first log-in\): (\S+)", output)
    assert match, output
    return match.group(1)


def people_count() -> int:
    """Every login, counted where row-level security lets us see it."""
    total = User.objects.count()  # operators: no account
    for account in Account.objects.all():
        with activate_account(account):
            total += User.objects.count()
    return total


@pytest.fixture
def counts_unchanged(db):
    before = (Account.objects.count(), people_count())
    yield
    assert (Account.objects.count(), people_count()) == before


GOOD = ["--slug", "sunfish", "--name", "Sunfish Swim", "--owner-email", "Dana@Sunfish.example"]


def test_createaccount_creates_the_account_and_its_owner(db):
    output = create_account(*GOOD, "--timezone", "America/Denver", "--currency", "CAD")
    account = Account.objects.get(slug="sunfish")
    assert (account.name, account.timezone, account.currency) == (
        "Sunfish Swim",
        "America/Denver",
        "CAD",
    )
    assert account.status == Account.Status.ACTIVE
    with activate_account(account):
        owner = User.objects.get()
    assert owner.kind == User.Kind.STAFF
    assert owner.username == "Dana"
    assert owner.email == "dana@sunfish.example"
    assert owner.must_change_password is True
    assert "/sunfish/office/login/" in output
    assert owner.check_password(one_time_password(output))


def test_each_account_gets_a_different_one_time_password(db):
    first = one_time_password(create_account(*GOOD))
    second = one_time_password(
        create_account("--slug", "otter", "--name", "Otter", "--owner-email", "o@otter.example")
    )
    assert first != second
    assert len(first) >= 12


def test_owner_is_sent_to_the_password_page_at_first_login(client, db):
    password = one_time_password(create_account(*GOOD))
    response = client.post("/sunfish/office/login/", {"username": "dana", "password": password})
    assert response["Location"] == "/sunfish/office/"
    assert client.get("/sunfish/office/")["Location"] == "/sunfish/office/password/"
    # Every other office page sends them there too until they change it.
    response = client.get("/sunfish/office/settings/locations/")
    assert response["Location"] == "/sunfish/office/password/"


def test_owner_replaces_the_one_time_password_and_reaches_the_dashboard(client, db):
    password = one_time_password(create_account(*GOOD))
    client.post("/sunfish/office/login/", {"username": "dana", "password": password})
    page = client.get("/sunfish/office/password/")
    assert page.status_code == 200
    assert "one-time password" in page.content.decode()
    response = client.post(
        "/sunfish/office/password/",
        {
            "old_password": password,
            "new_password1": "Blue-Lagoon-Swim-77",
            "new_password2": "Blue-Lagoon-Swim-77",
        },
    )
    assert response["Location"] == "/sunfish/office/"
    assert client.get("/sunfish/office/").status_code == 200
    with activate_account(Account.objects.get(slug="sunfish")):
        assert User.objects.get().must_change_password is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slug", "alpha"], "“alpha” is already taken"),
        (["--slug", "ALPHA"], "“alpha” is already taken"),
        (["--slug", "bad slug!"], "slug: Use 1–50 lowercase letters"),
        (["--slug", "edge-"], "slug: Use 1–50 lowercase letters"),
        (["--slug", "platform"], "“platform” is reserved"),
        (["--slug", "healthz"], "“healthz” is reserved"),
        (["--owner-email", "not-an-email"], "email: Enter a valid email address"),
        (["--timezone", "Mars/Olympus"], "“Mars/Olympus” is not a time zone"),
        (["--currency", "BTC"], "currency:"),
    ],
    ids=[
        "taken",
        "taken-uppercase",
        "invalid",
        "trailing-hyphen",
        "reserved-platform",
        "reserved-healthz",
        "bad-email",
        "bad-timezone",
        "bad-currency",
    ],
)
def test_createaccount_refuses_bad_input_and_changes_nothing(
    account_a, counts_unchanged, args, message
):
    options = dict(zip(GOOD[::2], GOOD[1::2], strict=True))
    options.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError) as error:
        create_account(*[part for pair in options.items() for part in pair])
    assert str(error.value).startswith("account not created — ")
    assert message in str(error.value)


def test_createaccount_requires_its_options(db):
    with pytest.raises(CommandError, match="--owner-email"):
        create_account("--slug", "x", "--name", "X")


def test_createoperator_creates_a_platform_login(db):
    out = StringIO()
    call_command(
        "createoperator", "--username", "ops", "--email", "Ops@Classbook.example", stdout=out
    )
    operator = User.objects.get(username="ops")
    assert operator.kind == User.Kind.PLATFORM
    assert operator.account_id is None
    assert operator.email == "ops@classbook.example"
    password = re.search(r"password: (\S+)", out.getvalue()).group(1)
    assert operator.check_password(password)


def test_createoperator_refuses_a_duplicate(db):
    call_command("createoperator", "--username", "ops", "--email", "a@x.example", stdout=StringIO())
    before = people_count()
    with pytest.raises(CommandError, match="“OPS” is already in use"):
        call_command(
            "createoperator", "--username", "OPS", "--email", "b@x.example", stdout=StringIO()
        )
    assert people_count() == before
