"""Office pages: log-in, dashboard, locations, location switcher, and who may see them."""

import pytest

from classbook.accounts.models import Account, Location
from classbook.accounts.services import location_save
from classbook.core.tenancy import activate_account
from classbook.office.location_context import LOCATION_SESSION_KEY
from tests.conftest import PASSWORD, office_login

LOCATIONS = "/alpha/office/settings/locations/"


def location_names(account: Account) -> list[str]:
    with activate_account(account):
        return sorted(Location.objects.values_list("name", flat=True))


@pytest.fixture
def alice_client(client, alice, account_a):
    office_login(client, account_a, "alice")
    return client


def location_form(**overrides) -> dict:
    data = {
        "name": "Eastside",
        "address_line1": "5 Elm St",
        "address_line2": "",
        "city": "Round Rock",
        "region": "TX",
        "postal_code": "78664",
        "phone": "(512) 555-0199",
        "timezone": "America/Chicago",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# --- log-in ---------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page_with_next(client, account_a):
    response = client.get("/alpha/office/settings/locations/?q=main")
    assert response.status_code == 302
    assert response["Location"] == (
        "/alpha/office/login/?next=/alpha/office/settings/locations/%3Fq%3Dmain"
    )


def test_login_page_shows_the_business_name(client, account_a):
    response = client.get("/alpha/office/login/")
    assert response.status_code == 200
    assert "Alpha Gym" in response.content.decode()


def test_login_with_username_goes_to_next(client, alice, account_a):
    response = client.post(
        "/alpha/office/login/?next=/alpha/office/settings/locations/",
        {"username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/alpha/office/settings/locations/"
    assert client.get("/alpha/office/").status_code == 200


def test_login_with_email_goes_to_the_dashboard(client, alice, account_a):
    response = client.post(
        "/alpha/office/login/", {"username": "ALICE@alpha.example", "password": PASSWORD}
    )
    assert response["Location"] == "/alpha/office/"
    assert client.get("/alpha/office/").context["user"] == alice


def test_login_refuses_a_next_url_on_another_site(client, alice, account_a):
    response = client.post(
        "/alpha/office/login/",
        {"username": "alice", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/alpha/office/"


def test_wrong_password_is_refused_with_a_message(client, alice, account_a):
    response = client.post("/alpha/office/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    assert "do not match an active staff login" in response.content.decode()
    assert client.get("/alpha/office/").status_code == 302


def test_staff_of_another_account_cannot_log_in_here(client, charlie, account_a):
    response = client.post("/alpha/office/login/", {"username": "charlie", "password": PASSWORD})
    assert response.status_code == 400


def test_inactive_staff_cannot_log_in(client, alice, account_a):
    with activate_account(account_a):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
    response = client.post("/alpha/office/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 400


def test_logout_requires_post(alice_client):
    assert alice_client.get("/alpha/office/logout/").status_code == 405
    assert alice_client.get("/alpha/office/").status_code == 200


def test_logout_ends_the_session(alice_client):
    response = alice_client.post("/alpha/office/logout/")
    assert response["Location"] == "/alpha/office/login/"
    assert alice_client.get("/alpha/office/").status_code == 302


def test_weak_new_password_shows_the_validator_message(alice_client, alice, account_a):
    response = alice_client.post(
        "/alpha/office/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    with activate_account(account_a):
        alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_common_new_password_shows_the_validator_message(alice_client):
    response = alice_client.post(
        "/alpha/office/password/",
        {"old_password": PASSWORD, "new_password1": "password123", "new_password2": "password123"},
    )
    assert response.status_code == 400
    assert "This password is too common" in response.content.decode()


def test_password_change_keeps_the_person_logged_in(alice_client, alice, account_a):
    response = alice_client.post(
        "/alpha/office/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Violet-Tumble-2031",
            "new_password2": "Violet-Tumble-2031",
        },
    )
    assert response["Location"] == "/alpha/office/"
    assert alice_client.get("/alpha/office/").status_code == 200
    with activate_account(account_a):
        alice.refresh_from_db()
    assert alice.check_password("Violet-Tumble-2031")


# --- dashboard and locations ----------------------------------------------------------------


def test_dashboard_shows_this_accounts_locations_only(alice_client, account_b):
    response = alice_client.get("/alpha/office/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alpha Gym Main" in page
    assert "Bravo Swim" not in page
    assert [loc.name for loc in response.context["locations"]] == ["Alpha Gym Main"]


def test_location_list_shows_the_accounts_locations(alice_client, account_b):
    response = alice_client.get(LOCATIONS)
    assert response.status_code == 200
    assert [loc.name for loc in response.context["page"]] == ["Alpha Gym Main"]
    assert "Bravo Swim Main" not in response.content.decode()


def test_location_list_search_by_name_or_city(alice_client, account_a):
    with activate_account(account_a):
        location_save(name="Lakeside", city="Georgetown")
        location_save(name="Hilltop", city="Austin")
    by_name = alice_client.get(LOCATIONS, {"q": "lake"})
    assert [loc.name for loc in by_name.context["page"]] == ["Lakeside"]
    by_city = alice_client.get(LOCATIONS, {"q": "austin"})
    assert [loc.name for loc in by_city.context["page"]] == ["Alpha Gym Main", "Hilltop"]


def test_location_list_search_without_results_says_so(alice_client):
    response = alice_client.get(LOCATIONS, {"q": "zebra"})
    assert response.status_code == 200
    assert "No location matches “zebra”" in response.content.decode()


def test_location_list_is_paginated(alice_client, account_a):
    with activate_account(account_a):
        for n in range(30):
            location_save(name=f"Site {n:02d}")
    first = alice_client.get(LOCATIONS)
    assert len(first.context["page"].object_list) == 25
    assert "Page 1 of 2" in first.content.decode()
    second = alice_client.get(LOCATIONS, {"page": 2})
    assert len(second.context["page"].object_list) == 6
    assert "Page 2 of 2" in second.content.decode()


def test_location_list_pagination_keeps_the_search(alice_client, account_a):
    with activate_account(account_a):
        for n in range(27):
            location_save(name=f"Pool {n:02d}")
    response = alice_client.get(LOCATIONS, {"q": "pool"})
    assert response.context["page"].paginator.count == 27
    assert "?q=pool&amp;page=2" in response.content.decode()


def test_location_detail(alice_client, location_a):
    response = alice_client.get(f"{LOCATIONS}{location_a.pk}/")
    assert response.status_code == 200
    assert "(512) 555-0100" in response.content.decode()


def test_create_location(alice_client, account_a):
    response = alice_client.post(f"{LOCATIONS}new/", location_form())
    with activate_account(account_a):
        created = Location.objects.get(name="Eastside")
    assert response.status_code == 302
    assert response["Location"] == f"{LOCATIONS}{created.pk}/"
    assert created.account_id == account_a.pk
    assert (created.city, created.phone, created.timezone) == (
        "Round Rock",
        "(512) 555-0199",
        "America/Chicago",
    )


def test_new_location_form_defaults_to_the_account_timezone(alice_client):
    response = alice_client.get(f"{LOCATIONS}new/")
    assert response.status_code == 200
    assert response.context["form"]["timezone"].value() == "America/Chicago"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me maybe", "Enter a phone number such as"),
        ("phone", "12345", "Enter a phone number such as"),
        ("timezone", "Mars/Olympus", "Select a valid choice"),
        ("name", "", "This field is required"),
        ("name", "alpha gym main", "There is already a location named"),
    ],
    ids=["phone-words", "phone-short", "timezone", "name-missing", "name-duplicate"],
)
def test_create_location_with_bad_input_shows_the_field_message(
    alice_client, account_a, field, value, message
):
    before = location_names(account_a)
    response = alice_client.post(f"{LOCATIONS}new/", location_form(**{field: value}))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert location_names(account_a) == before


def test_same_location_name_is_fine_in_another_account(alice_client, account_a, account_b):
    response = alice_client.post(f"{LOCATIONS}new/", location_form(name="Bravo Swim Main"))
    assert response.status_code == 302
    assert "Bravo Swim Main" in location_names(account_a)


def test_edit_location(alice_client, account_a, location_a):
    response = alice_client.post(
        f"{LOCATIONS}{location_a.pk}/edit/", location_form(name="Alpha Downtown", is_active="")
    )
    assert response["Location"] == f"{LOCATIONS}{location_a.pk}/"
    with activate_account(account_a):
        location_a.refresh_from_db()
    assert location_a.name == "Alpha Downtown"
    assert location_a.is_active is False


def test_edit_location_keeping_its_own_name_is_allowed(alice_client, location_a):
    response = alice_client.post(
        f"{LOCATIONS}{location_a.pk}/edit/", location_form(name="Alpha Gym Main")
    )
    assert response.status_code == 302


def test_edit_location_with_bad_input_saves_nothing(alice_client, account_a, location_a):
    with activate_account(account_a):
        location_save(name="Annex")
    response = alice_client.post(
        f"{LOCATIONS}{location_a.pk}/edit/", location_form(name="annex", phone="nope")
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "phone" in errors
    with activate_account(account_a):
        location_a.refresh_from_db()
    assert (location_a.name, location_a.phone) == ("Alpha Gym Main", "(512) 555-0100")


def test_edit_location_to_a_duplicate_name_is_refused(alice_client, account_a, location_a):
    with activate_account(account_a):
        location_save(name="Annex")
    response = alice_client.post(f"{LOCATIONS}{location_a.pk}/edit/", location_form(name="ANNEX"))
    assert response.status_code == 400
    assert "There is already a location named" in " ".join(response.context["form"].errors["name"])
    assert location_names(account_a) == ["Alpha Gym Main", "Annex"]


# --- location switcher ----------------------------------------------------------------------


def test_switching_location_stores_it_in_the_session(alice_client, location_a):
    response = alice_client.post(
        "/alpha/office/location/switch/", {"location": location_a.pk, "next": LOCATIONS}
    )
    assert response["Location"] == LOCATIONS
    assert alice_client.session[LOCATION_SESSION_KEY] == location_a.pk
    page = alice_client.get("/alpha/office/")
    assert page.context["office_location"] == location_a
    assert f'<option value="{location_a.pk}" selected>' in page.content.decode()


def test_switching_to_all_locations_clears_it(alice_client, location_a):
    alice_client.post("/alpha/office/location/switch/", {"location": location_a.pk})
    response = alice_client.post("/alpha/office/location/switch/", {"location": ""})
    assert response["Location"] == "/alpha/office/"
    assert LOCATION_SESSION_KEY not in alice_client.session


def test_switching_to_another_accounts_location_is_404(alice_client, location_b):
    response = alice_client.post("/alpha/office/location/switch/", {"location": location_b.pk})
    assert response.status_code == 404
    assert LOCATION_SESSION_KEY not in alice_client.session


@pytest.mark.parametrize("value", ["abc", "999999", "-1"])
def test_switching_to_a_location_that_does_not_exist_is_404(alice_client, value):
    response = alice_client.post("/alpha/office/location/switch/", {"location": value})
    assert response.status_code == 404


def test_switching_to_a_non_ascii_digit_is_404(alice_client):
    alice_client.raise_request_exception = False
    response = alice_client.post("/alpha/office/location/switch/", {"location": "²"})
    assert response.status_code == 404


def test_switching_location_refuses_an_offsite_next(alice_client, location_a):
    response = alice_client.post(
        "/alpha/office/location/switch/",
        {"location": location_a.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/alpha/office/"


def test_switching_location_needs_post(alice_client):
    assert alice_client.get("/alpha/office/location/switch/").status_code == 405


# --- other accounts and unavailable accounts ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/alpha/office/", LOCATIONS, f"{LOCATIONS}new/", "/alpha/office/password/"],
)
def test_staff_of_another_account_get_404(client, charlie, account_a, account_b, path):
    office_login(client, account_b, "charlie")
    assert client.get(path).status_code == 404
    # ... while their own office still works.
    assert client.get("/bravo/office/").status_code == 200


@pytest.mark.parametrize("suffix", ["", "edit/"])
def test_another_accounts_location_id_under_this_slug_is_404(alice_client, location_b, suffix):
    response = alice_client.get(f"{LOCATIONS}{location_b.pk}/{suffix}")
    assert response.status_code == 404


def test_editing_another_accounts_location_by_post_is_404(alice_client, account_b, location_b):
    response = alice_client.post(f"{LOCATIONS}{location_b.pk}/edit/", location_form())
    assert response.status_code == 404
    assert location_names(account_b) == ["Bravo Swim Main"]


@pytest.mark.parametrize(
    ("status", "wording"),
    [(Account.Status.SUSPENDED, "suspended"), (Account.Status.CANCELLED, "cancelled")],
)
@pytest.mark.parametrize(
    "path", ["/alpha/office/", "/alpha/office/login/", LOCATIONS, "/alpha/portal/", "/alpha/"]
)
def test_unavailable_account_shows_a_page_saying_so(client, account_a, status, wording, path):
    Account.objects.filter(pk=account_a.pk).update(status=status)
    response = client.get(path)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Alpha Gym" in page
    assert f"<strong>{wording}</strong>" in page


def test_unavailable_account_refuses_a_logged_in_staff_member(alice_client, account_a):
    Account.objects.filter(pk=account_a.pk).update(status=Account.Status.SUSPENDED)
    response = alice_client.get("/alpha/office/")
    assert response.status_code == 403
    assert "suspended" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/nobody/office/", "/nobody/office/login/", "/nobody/portal/", "/nobody/"]
)
def test_unknown_account_is_404(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
