"""Every office page declares its permission, and the four kinds of visitor get what they
should: anonymous → log-in page and another account's staff → 404 (tests/test_url_access.py,
GET and POST), staff without the permission → 403 naming it, staff with it → the page."""

import re

import pytest
from django.urls import reverse

from classbook.staff.access import ANY_STAFF, PUBLIC
from classbook.staff.models import UserGroup
from classbook.staff.permissions import Permission
from tests.conftest import make_staff, office_login
from tests.discovery import merged
from tests.url_catalogue import office_routes, platform_routes

# How to fill each URL parameter with an object of account A. A new parameter name makes
# test_every_url_parameter_is_known fail until it is added here.
PARAMS = {
    **merged("url_params", "PARAMS"),  # tests/<app>/url_params.py
    "account_slug": lambda ctx: ctx["account"].slug,
    "location_id": lambda ctx: ctx["location"].pk,
    "user_id": lambda ctx: ctx["bob"].pk,
    "group_id": lambda ctx: ctx["group"].pk,
    "uidb64": lambda ctx: "MQ",
    "token": lambda ctx: "not-a-token",
}

ROUTES = office_routes()


def _route_id(route):
    return route.name


@pytest.fixture
def ctx(account_a, location_a, alice, bob, charlie):
    from classbook.core.tenancy import activate_account

    with activate_account(account_a):
        group = UserGroup.objects.get(name="Front Desk")
    nobody = make_staff(account_a, "nobody")  # no User Group: no permission at all
    return {
        "account": account_a,
        "location": location_a,
        "bob": bob,
        "group": group,
        "alice": alice,
        "charlie": charlie,
        "nobody": nobody,
    }


def url_for(route, ctx) -> str:
    from classbook.core.tenancy import activate_account

    with activate_account(ctx["account"]):  # parameter makers may create rows
        kwargs = {name: PARAMS[name](ctx) for _, name in route.params}
    return reverse(route.name, kwargs=kwargs)


def test_the_walk_finds_the_office():
    names = {r.name for r in ROUTES}
    assert {
        "office:dashboard",
        "office:login",
        "staff:list",
        "audit:log",
        "office:location_detail",
    } <= names


def test_every_url_parameter_is_known():
    unknown = {name for r in ROUTES for _, name in r.params} - set(PARAMS)
    assert not unknown, f"add these URL parameters to PARAMS: {unknown}"


@pytest.mark.parametrize("route", ROUTES + platform_routes(), ids=_route_id)
def test_every_page_declares_its_access(route):
    access = getattr(route.callback, "classbook_access", None)
    assert access is not None, f"{route.name} declares no permission (use office_view)"
    assert isinstance(access, Permission) or access in (ANY_STAFF, PUBLIC, "platform-operator")


GUARDED = [r for r in ROUTES if r.callback.classbook_access != PUBLIC]
WITH_PERMISSION = [r for r in ROUTES if isinstance(r.callback.classbook_access, Permission)]


@pytest.mark.parametrize("route", WITH_PERMISSION, ids=_route_id)
def test_staff_without_the_permission_get_403_naming_it(route, client, ctx):
    office_login(client, ctx["account"], "nobody")
    response = client.get(url_for(route, ctx))
    assert response.status_code == 403
    label = route.callback.classbook_access.label
    assert label in response.content.decode()


@pytest.mark.parametrize("route", GUARDED, ids=_route_id)
def test_staff_with_the_permission_get_the_page(route, client, ctx):
    office_login(client, ctx["account"], "alice")
    url = url_for(route, ctx)
    response = client.get(url)
    if response.status_code == 405:  # a POST-only action
        response = client.post(url, {})
    assert response.status_code in (200, 302), (url, response.status_code)
    if response.status_code == 302:
        assert not re.search(r"/login/", response["Location"]), response["Location"]
