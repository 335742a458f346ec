"""The portal home page: the business's open locations, nobody else's."""

from classbook.accounts.services import location_save
from classbook.core.tenancy import activate_account


def test_portal_home_lists_this_accounts_locations(client, account_a, account_b):
    response = client.get("/alpha/portal/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Welcome to Alpha Gym" in page
    assert "Alpha Gym Main" in page
    assert "(512) 555-0100" in page
    assert "Bravo Swim" not in page


def test_portal_home_hides_closed_locations(client, account_a):
    with activate_account(account_a):
        location_save(name="Old Barn", is_active=False)
        location_save(name="New Hall")
    response = client.get("/alpha/portal/")
    names = [loc.name for loc in response.context["locations"]]
    assert names == ["Alpha Gym Main", "New Hall"]
    assert "Old Barn" not in response.content.decode()


def test_portal_home_without_open_locations(client, account_a, location_a):
    with activate_account(account_a):
        location_save(location=location_a, is_active=False)
    response = client.get("/alpha/portal/")
    assert list(response.context["locations"]) == []
    assert "Contact details will appear here" in response.content.decode()


def test_account_root_redirects_to_the_portal(client, account_a):
    response = client.get("/alpha/")
    assert response.status_code == 302
    assert response["Location"] == "/alpha/portal/"


def test_portal_of_another_account_shows_its_own_locations(client, account_a, account_b):
    page = client.get("/bravo/portal/").content.decode()
    assert "Bravo Swim Main" in page
    assert "Alpha Gym" not in page
