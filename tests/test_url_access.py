"""Every office URL refuses anonymous visitors (log-in page) and other accounts' staff (404).

The URLs are enumerated from the URLconf — every pattern under ``/<account>/office/``,
whichever app's namespace it lives in — so a new office page is covered without touching
this file. Object ids in the URLs are account B's (or an id that does not exist), asked
for under account A's address.
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from classbook.staff.access import PUBLIC
from tests.conftest import office_login

OFFICE_PREFIX = "<slug:account_slug>/office/"
# The office pages of the foundation; the walk must find at least these.
KNOWN = {
    "office:dashboard",
    "office:login",
    "office:logout",
    "office:password_change",
    "office:switch_location",
    "office:location_list",
    "office:location_create",
    "office:location_detail",
    "office:location_edit",
}
MISSING_ID = 999999


@dataclass(frozen=True)
class OfficeUrl:
    name: str  # "namespace:name"
    params: tuple[tuple[str, bool], ...]  # (kwarg, is an int)
    public: bool

    def __str__(self) -> str:
        return self.name


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            if not route.startswith(OFFICE_PREFIX) or not entry.name:
                continue
            converters = {**getattr(entry.pattern, "converters", {})}
            yield OfficeUrl(
                name=f"{namespace}:{entry.name}",
                params=tuple(
                    (key, isinstance(converter, IntConverter))
                    for key, converter in converters.items()
                ),
                public=getattr(entry.callback, "classbook_access", None) == PUBLIC,
            )


def office_urls() -> list[OfficeUrl]:
    return sorted(set(_walk(get_resolver().url_patterns)), key=str)


GUARDED = [url for url in office_urls() if not url.public]


@pytest.fixture
def foreign_ids(location_b, charlie) -> dict[str, int]:
    """Ids of account B's objects, by URL parameter name; other ids do not exist."""
    return {"location_id": location_b.pk, "user_id": charlie.pk}


def build(url: OfficeUrl, account_slug: str, foreign_ids: dict[str, int]) -> str:
    kwargs = {"account_slug": account_slug}
    for key, is_int in url.params:
        if key != "account_slug":
            kwargs[key] = foreign_ids.get(key, MISSING_ID) if is_int else "x"
    return reverse(url.name, kwargs=kwargs)


def test_the_walk_finds_every_known_office_page():
    names = {url.name for url in office_urls()}
    assert names >= KNOWN
    guarded = {url.name for url in GUARDED}
    assert guarded >= KNOWN - {"office:login", "office:logout"}
    assert "office:login" not in guarded
    assert any(is_int for url in GUARDED for _, is_int in url.params), "no URL with an id"


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", GUARDED, ids=str)
def test_anonymous_is_sent_to_the_office_login(client, account_a, foreign_ids, url, method):
    path = build(url, account_a.slug, foreign_ids)
    response = getattr(client, method)(path)
    assert response.status_code == 302, path
    assert response["Location"].startswith("/alpha/office/login/?next="), path


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", GUARDED, ids=str)
def test_staff_of_another_account_get_404(client, account_a, account_b, foreign_ids, url, method):
    office_login(client, account_b, "charlie")
    path = build(url, account_a.slug, foreign_ids)
    response = getattr(client, method)(path)
    assert response.status_code == 404, path


@pytest.mark.parametrize("url", [u for u in GUARDED if any(i for _, i in u.params)], ids=str)
def test_another_accounts_object_id_under_this_slug_is_404(
    client, alice, account_a, foreign_ids, url
):
    office_login(client, account_a, "alice")
    path = build(url, account_a.slug, foreign_ids)
    response = client.get(path)
    if response.status_code == 405:  # a POST-only action
        response = client.post(path)
    assert response.status_code == 404, path
