"""The platform console: operators see every account; nobody else sees the console."""

import pytest

from classbook.accounts.models import Account
from classbook.accounts.services import account_create, operator_create
from tests.conftest import PASSWORD, office_login

CONSOLE = "/platform/"


@pytest.fixture
def operator(db):
    return operator_create(username="olivia", email="olivia@classbook.example", password=PASSWORD)


@pytest.fixture
def operator_client(client, operator):
    response = client.post("/platform/login/", {"username": "olivia", "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def listed(response) -> list[str]:
    return [account.slug for account in response.context["page"]]


def test_operator_login_goes_to_the_account_list(client, operator):
    response = client.post("/platform/login/", {"username": "olivia", "password": PASSWORD})
    assert response["Location"] == CONSOLE


def test_operator_login_by_email(client, operator):
    response = client.post(
        "/platform/login/", {"username": "olivia@classbook.example", "password": PASSWORD}
    )
    assert response["Location"] == CONSOLE


def test_operator_login_with_a_wrong_password_is_refused(client, operator):
    response = client.post("/platform/login/", {"username": "olivia", "password": "nope"})
    assert response.status_code == 400
    assert "do not match an operator login" in response.content.decode()


def test_staff_cannot_log_in_to_the_console(client, alice):
    response = client.post("/platform/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 400


def test_account_list_shows_every_account(operator_client, account_a, account_b):
    response = operator_client.get(CONSOLE)
    assert response.status_code == 200
    assert listed(response) == ["alpha", "bravo"]


@pytest.mark.parametrize(("query", "expected"), [("bravo", ["bravo"]), ("gym", ["alpha"])])
def test_account_list_search_by_slug_or_name(
    operator_client, account_a, account_b, query, expected
):
    assert listed(operator_client.get(CONSOLE, {"q": query})) == expected


def test_account_list_status_filter(operator_client, account_a, account_b):
    Account.objects.filter(pk=account_b.pk).update(status=Account.Status.SUSPENDED)
    assert listed(operator_client.get(CONSOLE, {"status": "suspended"})) == ["bravo"]
    assert listed(operator_client.get(CONSOLE, {"status": "active"})) == ["alpha"]
    assert listed(operator_client.get(CONSOLE, {"status": "cancelled"})) == []


def test_account_list_ignores_an_unknown_status(operator_client, account_a, account_b):
    response = operator_client.get(CONSOLE, {"status": "bogus"})
    assert listed(response) == ["alpha", "bravo"]
    assert response.context["status"] == ""


def test_account_list_with_no_match_says_so(operator_client, account_a):
    response = operator_client.get(CONSOLE, {"q": "zzz"})
    assert "No accounts match this filter" in response.content.decode()


def test_account_list_is_paginated(operator_client):
    for n in range(27):
        account_create(
            slug=f"biz{n:02d}", name=f"Business {n:02d}", owner_email=f"o@biz{n}.example"
        )
    first = operator_client.get(CONSOLE)
    assert len(first.context["page"].object_list) == 25
    second = operator_client.get(CONSOLE, {"page": 2})
    assert listed(second) == ["biz25", "biz26"]


def test_account_detail_shows_the_accounts_locations_and_staff(
    operator_client, alice, bob, account_a, account_b
):
    response = operator_client.get(f"/platform/accounts/{account_a.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alpha Gym" in page
    assert "Alpha Gym Main" in page
    assert "Bravo Swim Main" not in page
    assert response.context["summary"]["staff"] == 3  # owner, alice, bob
    assert [loc.name for loc in response.context["summary"]["locations"]] == ["Alpha Gym Main"]


def test_account_detail_of_an_unknown_account_is_404(operator_client):
    assert operator_client.get("/platform/accounts/999999/").status_code == 404


@pytest.mark.parametrize("path", [CONSOLE, "/platform/accounts/1/"])
def test_anonymous_is_sent_to_the_platform_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/platform/login/?next=")


@pytest.mark.parametrize("path", [CONSOLE, "/platform/accounts/1/"])
def test_staff_are_sent_to_the_platform_login(client, alice, account_a, path):
    office_login(client, account_a, "alice")
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/platform/login/?next=")


def test_operator_logout_requires_post(operator_client):
    assert operator_client.get("/platform/logout/").status_code == 405
    response = operator_client.post("/platform/logout/")
    assert response["Location"] == "/platform/login/"
    assert operator_client.get(CONSOLE).status_code == 302
