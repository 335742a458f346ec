"""Location limits: a limited staff member sees and works at their locations only."""

import pytest

from classbook.accounts.services import location_save
from classbook.core.tenancy import activate_account
from classbook.office.location_context import LOCATION_SESSION_KEY
from classbook.staff.models import LocationAccess
from tests.conftest import make_staff, office_login


@pytest.fixture
def north(account_a, location_a):
    with activate_account(account_a):
        return location_save(name="Alpha Gym North", city="Round Rock")


@pytest.fixture
def lena(account_a, location_a, north):
    """Front Desk plus "Manage settings and locations", limited to the main location."""
    return make_staff(
        account_a,
        "lena",
        groups=("Front Desk",),
        permission_codes=["settings.manage"],
        location_ids=[location_a.pk],
    )


@pytest.fixture
def lena_client(client, account_a, lena):
    office_login(client, account_a, "lena")
    return client


def office(account, rest: str = "") -> str:
    return f"/{account.slug}/office/{rest}"


def names(items) -> list[str]:
    return [item.name for item in items]


def test_switcher_lists_only_the_allowed_location(lena_client, account_a, location_a, north):
    response = lena_client.get(office(account_a))
    assert names(response.context["office_locations"]) == [location_a.name]
    html = response.content.decode()
    assert f'<option value="{location_a.pk}" selected>' in html
    assert f'value="{north.pk}"' not in html


def test_unlimited_staff_see_every_location(client, account_a, alice, location_a, north):
    office_login(client, account_a, "alice")
    response = client.get(office(account_a))
    assert sorted(names(response.context["office_locations"])) == sorted(
        [location_a.name, north.name]
    )
    assert sorted(names(response.context["locations"])) == sorted([location_a.name, north.name])


def test_dashboard_shows_only_the_allowed_location(lena_client, account_a, location_a, north):
    response = lena_client.get(office(account_a))
    assert names(response.context["locations"]) == [location_a.name]
    assert north.name not in response.content.decode()


def test_locations_list_shows_only_the_allowed_location(lena_client, account_a, location_a, north):
    response = lena_client.get(office(account_a, "settings/locations/"))
    assert response.status_code == 200
    assert names(response.context["page"].object_list) == [location_a.name]
    assert north.name not in response.content.decode()


def test_location_search_respects_the_limit(lena_client, account_a, location_a, north):
    response = lena_client.get(office(account_a, "settings/locations/"), {"q": "Round Rock"})
    assert names(response.context["page"].object_list) == []
    response = lena_client.get(office(account_a, "settings/locations/"), {"q": "Alpha"})
    assert names(response.context["page"].object_list) == [location_a.name]


def test_another_locations_page_is_404(lena_client, account_a, location_a, north):
    assert lena_client.get(office(account_a, f"settings/locations/{north.pk}/")).status_code == 404
    edit = office(account_a, f"settings/locations/{north.pk}/edit/")
    assert lena_client.get(edit).status_code == 404
    assert lena_client.get(
        office(account_a, f"settings/locations/{location_a.pk}/")
    ).status_code == (200)


def test_editing_another_location_is_404_and_changes_nothing(lena_client, account_a, north):
    response = lena_client.post(
        office(account_a, f"settings/locations/{north.pk}/edit/"),
        {"name": "Taken over", "timezone": "America/Chicago", "is_active": "on"},
    )
    assert response.status_code == 404
    with activate_account(account_a):
        north.refresh_from_db()
    assert north.name == "Alpha Gym North"


def test_switching_to_a_location_not_allowed_is_404(lena_client, account_a, north):
    response = lena_client.post(office(account_a, "location/switch/"), {"location": north.pk})
    assert response.status_code == 404
    assert lena_client.session.get(LOCATION_SESSION_KEY) is None


def test_limited_staff_cannot_switch_to_all_locations(lena_client, account_a):
    response = lena_client.post(office(account_a, "location/switch/"), {"location": ""})
    assert response.status_code == 404


def test_switching_to_the_allowed_location_works(lena_client, account_a, location_a):
    response = lena_client.post(office(account_a, "location/switch/"), {"location": location_a.pk})
    assert response.status_code == 302
    assert lena_client.session[LOCATION_SESSION_KEY] == location_a.pk


def test_unlimited_staff_can_switch_anywhere(client, account_a, alice, north):
    office_login(client, account_a, "alice")
    response = client.post(office(account_a, "location/switch/"), {"location": north.pk})
    assert response.status_code == 302
    page = client.get(office(account_a))
    assert page.context["office_location"] == north
    client.post(office(account_a, "location/switch/"), {"location": ""})
    assert client.session.get(LOCATION_SESSION_KEY) is None


def test_another_accounts_location_cannot_be_chosen(client, account_a, alice, location_b):
    office_login(client, account_a, "alice")
    response = client.post(office(account_a, "location/switch/"), {"location": location_b.pk})
    assert response.status_code == 404


def test_a_limit_added_later_overrides_a_remembered_choice(
    client, account_a, alice, location_a, north
):
    kit = make_staff(account_a, "kit", groups=("Front Desk",))
    office_login(client, account_a, "kit")
    client.post(office(account_a, "location/switch/"), {"location": north.pk})
    assert client.get(office(account_a)).context["office_location"] == north
    with activate_account(account_a):
        LocationAccess.objects.create(user=kit, location=location_a)
    response = client.get(office(account_a))
    assert response.context["office_location"] == location_a
    assert names(response.context["locations"]) == [location_a.name]


def test_limit_to_several_locations(client, account_a, location_a, north):
    with activate_account(account_a):
        south = location_save(name="Alpha Gym South", city="Buda")
    make_staff(
        account_a,
        "max",
        groups=("Front Desk",),
        permission_codes=["settings.manage"],
        location_ids=[location_a.pk, south.pk],
    )
    office_login(client, account_a, "max")
    response = client.get(office(account_a, "settings/locations/"))
    assert sorted(names(response.context["page"].object_list)) == sorted(
        [location_a.name, south.name]
    )
    assert client.get(office(account_a, f"settings/locations/{north.pk}/")).status_code == 404
