"""Catalog pages: alice (owner) may do everything, bob (Instructor) may look but not edit,
charlie (another business) gets 404, anonymous visitors go to the log-in page; staff
limited to a location see only that location."""

from datetime import date, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classbook.accounts.services import location_save
from classbook.catalog import services
from classbook.catalog.models import Camp, Class, Closure, Term
from classbook.core import clock
from classbook.core.tenancy import activate_account
from tests.catalog import helpers
from tests.catalog.url_params import PARAMS
from tests.conftest import make_staff, office_login

VIEW_PAGES = [
    "class_list",
    "class_detail",
    "schedule",
    "setup",
    "term_list",
    "term_detail",
    "closure_list",
    "camp_list",
    "camp_calendar",
    "camp_detail",
]
EDIT_PAGES = [
    "class_create",
    "class_edit",
    "program_create",
    "program_edit",
    "level_create",
    "level_edit",
    "room_create",
    "room_edit",
    "term_create",
    "term_edit",
    "term_copy",
    "closure_create",
    "closure_edit",
    "closure_delete",
    "camp_create",
    "camp_edit",
]


@pytest.fixture
def ctx(account_a, location_a, alice, bob, charlie):
    return {"account": account_a, "location": location_a, "alice": alice, "bob": bob}


@pytest.fixture(autouse=True)
def frozen():
    with clock.freeze(helpers.NOW):
        yield


def url(ctx, name, **query):
    from tests.url_catalogue import office_routes

    route = next(r for r in office_routes() if r.name == f"catalog:{name}")
    kwargs = {"account_slug": ctx["account"].slug}
    kwargs.update({param: PARAMS[param](ctx) for _, param in route.params if param in PARAMS})
    path = reverse(f"catalog:{name}", kwargs=kwargs)
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def test_every_catalog_route_is_covered_here():
    from tests.url_catalogue import office_routes

    names = {r.name.split(":")[1] for r in office_routes() if r.name.startswith("catalog:")}
    assert names == set(VIEW_PAGES) | set(EDIT_PAGES)
    params = {p for r in office_routes() if r.name.startswith("catalog:") for _, p in r.params}
    assert params - {"account_slug"} <= set(PARAMS)


@pytest.mark.parametrize("name", VIEW_PAGES + EDIT_PAGES)
def test_anonymous_goes_to_log_in(client, ctx, name):
    response = client.get(url(ctx, name))
    assert response.status_code == 302
    assert response["Location"].startswith(f"/{ctx['account'].slug}/office/login/")


@pytest.mark.parametrize("name", VIEW_PAGES + EDIT_PAGES)
def test_alice_gets_every_page(client, ctx, name):
    office_login(client, ctx["account"], "alice")
    response = client.get(url(ctx, name))
    assert response.status_code == 200, response.content.decode()[:300]


@pytest.mark.parametrize("name", VIEW_PAGES)
def test_bob_may_look(client, ctx, name):
    office_login(client, ctx["account"], "bob")
    assert client.get(url(ctx, name)).status_code == 200


@pytest.mark.parametrize("name", EDIT_PAGES)
def test_bob_may_not_edit(client, ctx, name):
    office_login(client, ctx["account"], "bob")
    response = client.get(url(ctx, name))
    assert response.status_code == 403
    assert "Edit classes and camps" in response.content.decode()
    assert client.post(url(ctx, name), {}).status_code == 403


@pytest.fixture
def charlie_ctx(ctx, charlie):
    return {**ctx, "charlie": charlie}


@pytest.mark.parametrize("name", VIEW_PAGES + EDIT_PAGES)
def test_another_business_gets_404(client, charlie_ctx, name):
    office_login(client, charlie_ctx["charlie"].account, "charlie")
    assert client.get(url(charlie_ctx, name)).status_code == 404


def test_nav_shows_catalog_to_bob_without_edit_buttons(client, ctx):
    office_login(client, ctx["account"], "bob")
    page = client.get(url(ctx, "class_list")).content.decode()
    assert "Programs &amp; rooms" in page and "Closures" in page
    assert "Add class" not in page


# ---------------------------------------------------------------- forms


def _class_form(ctx, **changes):
    with activate_account(ctx["account"]):
        program = helpers.program()
        term = helpers.term()
        gym = helpers.room()
    data = {
        "name": "Level 1 Boys",
        "program": program.pk,
        "location": ctx["location"].pk,
        "room": gym.pk,
        "term": term.pk,
        "weekdays": ["1", "3"],
        "start_time": "16:30",
        "end_time": "17:30",
        "instructors": [ctx["bob"].pk],
        "capacity": "8",
        "min_age_years": "6",
        "max_age_years": "9",
        "max_age_extra_months": "11",
        "age_as_of": "first_meeting",
        "gender_rule": "boys",
        "portal_visible": "on",
        "is_active": "on",
        "color": "#43a047",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_alice_creates_a_class(client, ctx):
    office_login(client, ctx["account"], "alice")
    response = client.post(url(ctx, "class_create"), _class_form(ctx))
    assert response.status_code == 302, response.content.decode()
    with activate_account(ctx["account"]):
        klass = Class.objects.get(name="Level 1 Boys")
        assert (klass.min_age_months, klass.max_age_months) == (72, 119)
        assert klass.weekday_names == "Tue, Thu" and klass.meetings.count() == 30
        assert list(klass.instructors.all()) == [ctx["bob"]]
    assert response["Location"] == f"/alpha/office/catalog/classes/{klass.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Level 1 Boys" in page and "Class added" in page and "Tue, Sep 8, 2026" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "16:00"}, "The class ends before it starts."),
        ({"weekdays": None}, "Choose at least one weekday."),
        ({"capacity": "-1"}, "Capacity cannot be below zero."),
        ({"min_age_years": "10"}, "is below the minimum age"),
        ({"term": "", "start_date": ""}, "A class without a session needs a start date."),
        (
            {"term": "", "start_date": "2026-10-01", "end_date": "2026-09-01"},
            "The end date is before the start date.",
        ),
    ],
)
def test_bad_class_form_shows_the_message_and_saves_nothing(client, ctx, changes, message):
    office_login(client, ctx["account"], "alice")
    response = client.post(url(ctx, "class_create"), _class_form(ctx, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(ctx["account"]):
        assert not Class.objects.filter(name="Level 1 Boys").exists()


def test_room_conflict_warns_with_a_link_and_saves_when_confirmed(client, ctx):
    with activate_account(ctx["account"]):
        other = helpers.klass(name="Tumbling 1", room=helpers.room())
    office_login(client, ctx["account"], "alice")
    form = _class_form(ctx)
    response = client.post(url(ctx, "class_create"), form)
    assert response.status_code == 409
    page = response.content.decode()
    assert "The room is already in use at this time" in page
    assert f"/classes/{other.pk}/" in page and "Tumbling 1" in page
    assert 'name="confirm_conflicts" value="1"' in page
    with activate_account(ctx["account"]):
        assert not Class.objects.filter(name="Level 1 Boys").exists()
    response = client.post(url(ctx, "class_create"), {**form, "confirm_conflicts": "1"})
    assert response.status_code == 302
    with activate_account(ctx["account"]):
        assert Class.objects.filter(name="Level 1 Boys").exists()


def test_edit_form_is_prefilled_and_saves(client, ctx):
    with activate_account(ctx["account"]):
        klass = helpers.klass(min_age_months=75, instructor_ids=[ctx["bob"].pk])
    office_login(client, ctx["account"], "alice")
    edit = reverse("catalog:class_edit", kwargs={"account_slug": "alpha", "class_id": klass.pk})
    page = client.get(edit).content.decode()
    assert 'value="Level 2 Girls"' in page and 'name="min_age_extra_months" value="3"' in page
    form = _class_form(ctx, name="Level 2 Girls", room="", capacity="10")
    assert client.post(edit, form).status_code == 302
    with activate_account(ctx["account"]):
        klass.refresh_from_db()
        assert klass.capacity == 10


def test_camp_form_creates_a_camp_with_options(client, ctx):
    with activate_account(ctx["account"]):
        program = helpers.program("Summer Camps")
    office_login(client, ctx["account"], "alice")
    data = {
        "name": "Ninja Week",
        "program": program.pk,
        "location": ctx["location"].pk,
        "start_date": "2027-06-14",
        "end_date": "2027-06-18",
        "weekdays": ["0", "1", "2", "3", "4"],
        "signup_mode": "per_day",
        "day_capacity": "20",
        "min_age_years": "5",
        "full_offered": "on",
        "full_start_time": "09:00",
        "full_end_time": "16:00",
        "full_price": "$65.00",
        "am_offered": "on",
        "am_start_time": "09:00",
        "am_end_time": "12:00",
        "am_price": "40",
        "portal_visible": "on",
    }
    bad = client.post(url(ctx, "camp_create"), {**data, "am_price": "4o"})
    assert bad.status_code == 400 and "Enter an amount like 125" in bad.content.decode()
    bad = client.post(url(ctx, "camp_create"), {**data, "am_end_time": "08:00"})
    assert bad.status_code == 400 and "ends before it starts" in bad.content.decode()
    response = client.post(url(ctx, "camp_create"), data)
    assert response.status_code == 302, response.content.decode()
    page = client.get(response["Location"]).content.decode()
    assert "$65.00" in page and "$40.00" in page and "Mon, Jun 14, 2027" in page
    with activate_account(ctx["account"]):
        camp = Camp.objects.get(name="Ninja Week")
        assert camp.days.count() == 5 and camp.options.count() == 2


def test_closure_create_and_delete_with_confirmation(client, ctx):
    with activate_account(ctx["account"]):
        klass = helpers.klass(weekdays=[3])
    office_login(client, ctx["account"], "alice")
    response = client.post(
        url(ctx, "closure_create"),
        {"name": "Thanksgiving", "start_date": "2026-11-26", "end_date": "2026-11-27"},
    )
    assert response.status_code == 302
    with activate_account(ctx["account"]):
        closure = Closure.objects.get(name="Thanksgiving")
        assert not klass.meetings.filter(date=date(2026, 11, 26)).exists()
    delete = reverse(
        "catalog:closure_delete", kwargs={"account_slug": "alpha", "closure_id": closure.pk}
    )
    assert "Delete the closure “Thanksgiving”?" in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    with activate_account(ctx["account"]):
        assert not Closure.objects.filter(pk=closure.pk).exists()
        assert klass.meetings.filter(date=date(2026, 11, 26)).exists()


def test_copy_session_preview_then_confirm(client, ctx):
    with activate_account(ctx["account"]):
        gym = helpers.room()
        source = helpers.klass(name="Level 1", room=gym)
        spring = helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
        helpers.klass(name="Spring Squatter", room=gym, term=spring)
    office_login(client, ctx["account"], "alice")
    copy = reverse("catalog:term_copy", kwargs={"account_slug": "alpha", "term_id": source.term_id})
    page = client.get(copy, {"target": spring.pk}).content.decode()
    assert "Preview: 1 class will be created in Spring 2027" in page
    assert "Room shared with" in page and "Spring Squatter" in page
    with activate_account(ctx["account"]):
        assert Class.objects.filter(term=spring).count() == 1  # a preview writes nothing
    response = client.post(copy, {"target": spring.pk})
    assert response.status_code == 302
    with activate_account(ctx["account"]):
        assert Class.objects.filter(term=spring, name="Level 1").exists()


def test_schedule_week_and_camp_month_show_the_rows(client, ctx):
    with activate_account(ctx["account"]):
        helpers.klass(name="Preteam", room=helpers.room(), instructor_ids=[ctx["bob"].pk])
        helpers.klass(name="Pool Party", weekdays=[1], start_time=time(16), end_time=time(17))
        services.closure_save(
            name="Thanksgiving", start_date=date(2026, 11, 26), end_date=date(2026, 11, 27)
        )
        camp = services.camp_save(
            program=helpers.program("Camps"),
            location=ctx["location"],
            name="Turkey Camp",
            start_date=date(2026, 11, 23),
            end_date=date(2026, 11, 25),
            day_capacity=10,
            options=[
                {"kind": "full", "start_time": time(9), "end_time": time(16), "price_cents": 5000}
            ],
        )
    office_login(client, ctx["account"], "alice")
    page = client.get(url(ctx, "schedule", week="2026-11-25")).content.decode()
    assert "Week of Nov 23, 2026" in page
    assert "Preteam" in page and "Pool Party" in page
    assert "Closed: Thanksgiving" in page and "Turkey Camp" in page
    assert "--width: 50.000%" in page  # two overlapping classes side by side
    by_instructor = client.get(
        url(ctx, "schedule", week="2026-11-25", instructor=ctx["bob"].pk)
    ).content.decode()
    assert "Preteam" in by_instructor and "Pool Party" not in by_instructor
    month = client.get(url(ctx, "camp_calendar", month="2026-11")).content.decode()
    assert month.count(f"/camps/{camp.pk}/") == 3 and "Camps in November 2026" in month


def test_class_list_filters(client, ctx):
    with activate_account(ctx["account"]):
        helpers.klass(name="Tot Gym", min_age_months=24, max_age_months=47, weekdays=[0])
        helpers.klass(
            name="Teen Ninja",
            min_age_months=156,
            max_age_months=215,
            weekdays=[4],
            program=helpers.program("Ninja"),
            instructor_ids=[ctx["bob"].pk],
        )
    office_login(client, ctx["account"], "alice")

    def names(**query):
        page = client.get(url(ctx, "class_list", **query)).content.decode()
        return [n for n in ("Tot Gym", "Teen Ninja") if n in page]

    assert names() == ["Tot Gym", "Teen Ninja"]
    assert names(age=3) == ["Tot Gym"]
    assert names(age=14) == ["Teen Ninja"]
    assert names(day=4) == ["Teen Ninja"]
    assert names(instructor=ctx["bob"].pk) == ["Teen Ninja"]
    with activate_account(ctx["account"]):
        ninja = helpers.program("Ninja").pk
    assert names(program=ninja) == ["Teen Ninja"]
    assert names(q="tot") == ["Tot Gym"]
    page = client.get(url(ctx, "class_list", sort="name")).content.decode()
    assert page.index("Teen Ninja") < page.index("Tot Gym")


def test_class_list_query_count_does_not_grow_with_classes(
    client, ctx, django_assert_max_num_queries
):
    with activate_account(ctx["account"]):
        for i in range(3):
            helpers.klass(name=f"Class {i}", instructor_ids=[ctx["bob"].pk])
    office_login(client, ctx["account"], "alice")
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(ctx, "class_list")).status_code == 200
    with activate_account(ctx["account"]):
        for i in range(3, 30):
            helpers.klass(
                name=f"Class {i}",
                instructor_ids=[ctx["bob"].pk, ctx["alice"].pk],
                room=helpers.room(f"Room {i}"),
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url(ctx, "class_list")).content.decode()
    assert "Class 29" not in page or "Page 1 of 2" in page


# ---------------------------------------------------------------- location limits


@pytest.fixture
def two_locations(ctx):
    account = ctx["account"]
    with activate_account(account):
        north = location_save(name="Northgate")
        main = ctx["location"]
        mine = helpers.klass(name="Main Tumbling", room=helpers.room("Main gym", main))
        theirs = helpers.klass(
            name="North Ninja", location=north, room=helpers.room("North gym", north)
        )
        camp = services.camp_save(
            program=helpers.program("Camps"),
            location=north,
            name="North Camp",
            start_date=date(2027, 6, 14),
            end_date=date(2027, 6, 18),
            day_capacity=10,
            options=[
                {"kind": "full", "start_time": time(9), "end_time": time(16), "price_cents": 5000}
            ],
        )
        closure = services.closure_save(
            name="North flood",
            start_date=date(2026, 10, 1),
            end_date=date(2026, 10, 2),
            location=north,
        )
    make_staff(account, "mainonly", groups=("Manager",), location_ids=[main.pk])
    return {"north": north, "mine": mine, "theirs": theirs, "camp": camp, "closure": closure}


def test_location_limited_staff_see_only_their_location(client, ctx, two_locations):
    office_login(client, ctx["account"], "mainonly")
    listing = client.get(url(ctx, "class_list", location="")).content.decode()
    assert "Main Tumbling" in listing and "North Ninja" not in listing
    theirs = two_locations["theirs"].pk
    for name in ("class_detail", "class_edit"):
        path = reverse(f"catalog:{name}", kwargs={"account_slug": "alpha", "class_id": theirs})
        assert client.get(path).status_code == 404
    week = client.get(url(ctx, "schedule", week="2026-09-07", location="")).content.decode()
    assert "Main Tumbling" in week and "North Ninja" not in week
    north = two_locations["north"].pk
    assert client.get(url(ctx, "schedule", location=north)).status_code == 404
    setup = client.get(url(ctx, "setup")).content.decode()
    assert "Main gym" in setup and "North gym" not in setup
    camps = client.get(url(ctx, "camp_list")).content.decode()
    assert "North Camp" not in camps
    camp = reverse(
        "catalog:camp_detail", kwargs={"account_slug": "alpha", "camp_id": two_locations["camp"].pk}
    )
    assert client.get(camp).status_code == 404
    closures = client.get(url(ctx, "closure_list")).content.decode()
    assert "North flood" not in closures
    edit = reverse(
        "catalog:closure_edit",
        kwargs={"account_slug": "alpha", "closure_id": two_locations["closure"].pk},
    )
    assert client.get(edit).status_code == 404
    form = client.get(url(ctx, "class_create")).content.decode()
    assert "Northgate" not in form


def test_location_limited_copy_only_copies_their_classes(client, ctx, two_locations):
    with activate_account(ctx["account"]):
        spring = helpers.term("Spring 2027", date(2027, 1, 11), date(2027, 5, 22))
    office_login(client, ctx["account"], "mainonly")
    copy = reverse(
        "catalog:term_copy",
        kwargs={"account_slug": "alpha", "term_id": two_locations["mine"].term_id},
    )
    page = client.get(copy, {"target": spring.pk}).content.decode()
    assert "Main Tumbling" in page and "North Ninja" not in page
    assert client.post(copy, {"target": spring.pk}).status_code == 302
    with activate_account(ctx["account"]):
        assert list(Class.objects.filter(term=spring).values_list("name", flat=True)) == [
            "Main Tumbling"
        ]
        assert Term.objects.count() == 2
