"""Family pages: who may open them, and what a front-desk person does on them."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.families import services as svc
from classbook.families.models import EmergencyContact, Family, Guardian, PolicyAcceptance, Student
from tests.conftest import make_staff, office_login
from tests.families.conftest import create_family, guardian_details, student_details

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def family(account_a):
    with activate_account(account_a):
        return create_family(
            students=[student_details(), student_details(first_name="Leo", allergies="Peanuts")]
        )


def url(family_or_none, name="detail", **kwargs):
    base = "/alpha/office/families/"
    if family_or_none is None:
        return base + name
    return (
        f"{base}{family_or_none.pk}/{name}" if name != "detail" else f"{base}{family_or_none.pk}/"
    )


def _in_a(account_a, fn):
    with activate_account(account_a):
        return fn()


# --- who may open the pages --------------------------------------------------------------

PAGES = [
    "",
    "new/",
    "{f}/",
    "{f}/edit/",
    "{f}/guardians/new/",
    "{f}/students/new/",
    "{f}/contacts/new/",
    "{f}/merge/",
    "policies/",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_goes_to_log_in(client, family, path):
    response = client.get("/alpha/office/families/" + path.format(f=family.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/alpha/office/login/")


@pytest.mark.parametrize("path", PAGES)
def test_staff_without_families_permission_get_403(client, family, bob, path):
    office_login(client, family.account, "bob")
    response = client.get("/alpha/office/families/" + path.format(f=family.pk))
    assert response.status_code == 403
    assert "families" in response.content.decode().lower()


@pytest.mark.parametrize("path", PAGES)
def test_staff_of_another_account_get_404(client, family, charlie, path):
    office_login(client, charlie.account, "charlie")
    response = client.get("/alpha/office/families/" + path.format(f=family.pk))
    assert response.status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_alice_opens_every_page(client, family, alice, path):
    office_login(client, family.account, "alice")
    assert client.get("/alpha/office/families/" + path.format(f=family.pk)).status_code == 200


def test_post_actions_refuse_bob(client, family, bob):
    office_login(client, family.account, "bob")
    response = client.post(url(family, "notes/"), {"body": "hi"})
    assert response.status_code == 403
    with activate_account(family.account):
        assert not LogEntry.objects.filter(action="family.note_added").exists()


def test_a_family_of_another_account_is_404(client, family, alice, account_b):
    with activate_account(account_b):
        theirs = create_family(name="Bravo")
    office_login(client, family.account, "alice")
    assert client.get(f"/alpha/office/families/{theirs.pk}/").status_code == 404
    assert (
        client.post(f"/alpha/office/families/{theirs.pk}/notes/", {"body": "x"}).status_code == 404
    )


def test_view_only_staff_see_no_edit_buttons(client, family, account_a):
    viewer = make_staff(account_a, "viewer", permission_codes=["families.view"])
    office_login(client, account_a, viewer.username)
    page = client.get(url(family)).content.decode()
    assert "Maria Garcia" in page
    assert "Add guardian" not in page and "Merge with" not in page
    assert client.get(url(family, "edit/")).status_code == 403


def test_nav_has_families(client, family, alice):
    office_login(client, family.account, "alice")
    page = client.get("/alpha/office/").content.decode()
    assert 'href="/alpha/office/families/"' in page


# --- list and search ---------------------------------------------------------------------


def test_list_shows_families_and_search_box(client, family, alice):
    office_login(client, family.account, "alice")
    page = client.get("/alpha/office/families/").content.decode()
    assert "Garcia" in page and "Ana Garcia" in page
    assert 'hx-trigger="input changed delay:200ms' in page
    assert 'hx-target="#family-results"' in page


def test_search_partial_for_htmx(client, family, alice):
    office_login(client, family.account, "alice")
    response = client.get(
        "/alpha/office/families/?q=555-0142", HTTP_HX_TARGET="family-results", **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "Maria Garcia" in body
    response = client.get("/alpha/office/families/?q=zzz", HTTP_HX_TARGET="family-results", **HTMX)
    assert "No family matches" in response.content.decode()


def test_empty_state(client, alice):
    office_login(client, alice.account, "alice")
    assert "No families yet" in client.get("/alpha/office/families/").content.decode()


def test_pagination(client, account_a, alice):
    with activate_account(account_a):
        for n in range(30):
            create_family(
                name=f"Family{n:02d}",
                guardian=guardian_details(last_name=f"Family{n:02d}", email=f"p{n}@example.com"),
            )
    office_login(client, account_a, "alice")
    first = client.get("/alpha/office/families/").content.decode()
    second = client.get("/alpha/office/families/?page=2").content.decode()
    assert "Page 1 of 2" in first and "Family00" in first and "Family29" not in first
    assert "Family29" in second


def test_search_page_query_count_does_not_grow_with_results(
    client, account_a, alice, django_assert_max_num_queries
):
    with activate_account(account_a):
        create_family(name="Solo", guardian=guardian_details(last_name="Solo", email="s@x.example"))
        for n in range(24):
            create_family(
                name=f"Many{n:02d}",
                guardian=guardian_details(last_name=f"Many{n:02d}", email=f"m{n}@example.com"),
                students=[student_details(first_name="Kid"), student_details(first_name="Kiddo")],
            )
            svc.family_set_tags(family=Family.objects.get(name=f"Many{n:02d}"), names=["VIP"])
    office_login(client, account_a, "alice")
    client.get("/alpha/office/families/?q=solo")  # warm caches (sessions, permissions)
    with CaptureQueriesContext(connection) as one:
        response = client.get("/alpha/office/families/?q=solo")
    assert response.content.decode().count("families/") > 0
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get("/alpha/office/families/?q=many")
    assert response.content.decode().count("Kiddo Garcia") == 24


# --- create ------------------------------------------------------------------------------


def _form(**extra):
    data = {
        "name": "Nguyen",
        "city": "Austin",
        "guardian-first_name": "Linh",
        "guardian-last_name": "Nguyen",
        "guardian-email": "linh@example.com",
        "guardian-mobile_phone": "512 555 0188",
        "students-TOTAL_FORMS": "2",
        "students-INITIAL_FORMS": "0",
        "students-0-first_name": "Bao",
        "students-0-last_name": "Nguyen",
        "students-0-date_of_birth": "2016-04-05",
        "students-0-gender": "male",
        "students-1-first_name": "",
        "students-1-last_name": "",
        "students-1-date_of_birth": "",
        "students-1-gender": "unspecified",
    }
    data.update(extra)
    return data


def test_create_family_page(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = client.post("/alpha/office/families/new/", _form())
    assert response.status_code == 302
    with activate_account(account_a):
        family = Family.objects.get(name="Nguyen")
        assert response["Location"] == f"/alpha/office/families/{family.pk}/"
        assert [s.first_name for s in family.students.all()] == ["Bao"]
        assert family.guardians.get().is_primary
        assert LogEntry.objects.get(action="family.created").actor == alice


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("students-0-date_of_birth", "2999-01-01", "The date of birth is in the future."),
        ("guardian-email", "linh@", "Enter a valid email address."),
        ("guardian-mobile_phone", "phone me", "Enter a phone number"),
        ("name", "", "This field is required."),
    ],
)
def test_create_family_page_shows_field_errors(client, account_a, alice, field, value, message):
    office_login(client, account_a, "alice")
    response = client.post("/alpha/office/families/new/", _form(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    with activate_account(account_a):
        assert not Family.objects.exists()
        assert not Student.objects.exists()


def test_add_student_row_keeps_what_was_typed(client, account_a, alice):
    office_login(client, account_a, "alice")
    response = client.post("/alpha/office/families/new/", _form(add_student="1"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Nguyen"' in page and 'value="Bao"' in page
    assert 'name="students-2-first_name"' not in page  # Bao + one blank row
    assert 'name="students-1-first_name"' in page
    assert "is-invalid" not in page
    with activate_account(account_a):
        assert not Family.objects.exists()


def test_duplicate_warning_then_create_anyway(client, account_a, alice, family):
    office_login(client, account_a, "alice")
    data = _form(
        **{
            "name": "Garcia",
            "guardian-last_name": "Garcia",
            "guardian-email": "MARIA.GARCIA@example.com",
        }
    )
    response = client.post("/alpha/office/families/new/", data)
    page = response.content.decode()
    assert response.status_code == 409
    assert "may already be here" in page
    assert f'href="/alpha/office/families/{family.pk}/"' in page
    assert 'name="create_anyway"' in page
    with activate_account(account_a):
        assert Family.objects.count() == 1
    response = client.post("/alpha/office/families/new/", {**data, "create_anyway": "1"})
    assert response.status_code == 302
    with activate_account(account_a):
        assert Family.objects.filter(name="Garcia").count() == 2


# --- the family page ---------------------------------------------------------------------


def test_family_page_shows_people_ages_and_history(client, family, alice):
    office_login(client, family.account, "alice")
    page = client.get(url(family)).content.decode()
    assert "Maria Garcia" in page and "maria.garcia@example.com" in page
    with activate_account(family.account):
        ana = family.students.get(first_name="Ana")
        assert ana.age_label in page
    assert "Allergies: Peanuts" in page
    assert "Family added" in page  # history
    # The enrollment and ledger apps' sections are on the family page too.
    assert "Enrollments" in page and "Balance" in page and "Ledger &amp; payments" in page


def test_note_added_inline_with_htmx(client, family, alice):
    office_login(client, family.account, "alice")
    response = client.post(url(family, "notes/"), {"body": "Asked about camp."}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="notes-panel"' in body and "Asked about camp." in body and "<html" not in body
    response = client.post(url(family, "notes/"), {"body": ""}, **HTMX)
    assert "This field is required." in response.content.decode()
    response = client.post(url(family, "notes/"), {"body": "Plain post"})
    assert response.status_code == 302


def test_tags_saved(client, family, alice):
    office_login(client, family.account, "alice")
    client.post(url(family, "tags/"), {"tags": "VIP, Scholarship"})
    with activate_account(family.account):
        assert sorted(family.tags.values_list("name", flat=True)) == ["Scholarship", "VIP"]


def test_edit_family(client, family, alice):
    office_login(client, family.account, "alice")
    response = client.post(url(family, "edit/"), {"name": "Garcia Lopez", "city": "Round Rock"})
    assert response.status_code == 302
    with activate_account(family.account):
        family.refresh_from_db()
    assert family.name == "Garcia Lopez"
    assert client.post(url(family, "edit/"), {"name": ""}).status_code == 400


def test_guardian_pages(client, family, alice):
    office_login(client, family.account, "alice")
    response = client.post(
        url(family, "guardians/new/"),
        {
            "first_name": "Jose",
            "last_name": "Garcia",
            "email": "jose@example.com",
            "make_primary": "1",
        },
    )
    assert response.status_code == 302
    with activate_account(family.account):
        jose = Guardian.objects.get(first_name="Jose")
        maria = Guardian.objects.get(first_name="Maria")
    assert jose.is_primary
    edit = url(family, f"guardians/{jose.pk}/edit/")
    response = client.post(edit, {"first_name": "José", "last_name": "Garcia", "email": "bad"})
    assert response.status_code == 400
    response = client.post(
        edit,
        {
            "first_name": "José",
            "last_name": "Garcia",
            "email": "jose@example.com",
            "sms_opt_in": "on",
        },
    )
    assert response.status_code == 400
    assert "Text messages need a mobile phone number." in response.content.decode()
    assert client.post(url(family, f"guardians/{maria.pk}/primary/")).status_code == 302
    assert client.post(url(family, f"guardians/{jose.pk}/remove/")).status_code == 302
    with activate_account(family.account):
        jose.refresh_from_db()
    assert not jose.is_active
    assert client.post(url(family, f"guardians/{jose.pk}/restore/")).status_code == 302


def test_removing_the_last_guardian_shows_why(client, family, alice):
    office_login(client, family.account, "alice")
    maria = _in_a(family.account, family.guardians.get)
    response = client.post(url(family, f"guardians/{maria.pk}/remove/"), follow=True)
    assert "at least one guardian" in response.content.decode()


def test_guardian_of_another_family_is_404(client, family, alice, account_a):
    with activate_account(account_a):
        other = create_family(
            name="Other", guardian=guardian_details(last_name="Other", email="o@example.com")
        )
        theirs = other.guardians.get()
    office_login(client, account_a, "alice")
    assert client.get(url(family, f"guardians/{theirs.pk}/edit/")).status_code == 404


def test_student_pages(client, family, alice):
    office_login(client, family.account, "alice")
    response = client.post(
        url(family, "students/new/"),
        {
            "first_name": "Sofia",
            "last_name": "Garcia",
            "date_of_birth": "2030-01-01",
            "gender": "female",
        },
    )
    assert response.status_code == 400
    assert "The date of birth is in the future." in response.content.decode()
    response = client.post(
        url(family, "students/new/"),
        {
            "first_name": "Sofia",
            "last_name": "Garcia",
            "date_of_birth": "2020-01-01",
            "gender": "female",
            "medical_notes": "Asthma",
        },
    )
    assert response.status_code == 302
    with activate_account(family.account):
        sofia = Student.objects.get(first_name="Sofia")
    assert sofia.medical_notes == "Asthma"
    response = client.post(
        url(family, f"students/{sofia.pk}/edit/"),
        {
            "first_name": "Sofía",
            "last_name": "Garcia",
            "date_of_birth": "2020-01-01",
            "gender": "female",
        },
    )
    assert response.status_code == 302
    assert client.post(url(family, f"students/{sofia.pk}/remove/")).status_code == 302
    with activate_account(family.account):
        sofia.refresh_from_db()
    assert not sofia.is_active and sofia.first_name == "Sofía"


def test_contact_pages(client, family, alice):
    office_login(client, family.account, "alice")
    assert (
        client.post(url(family, "contacts/new/"), {"name": "Rosa", "phone": "x"}).status_code == 400
    )
    response = client.post(
        url(family, "contacts/new/"),
        {"name": "Rosa", "relationship": "Aunt", "phone": "512-555-3030"},
    )
    assert response.status_code == 302
    with activate_account(family.account):
        rosa = EmergencyContact.objects.get()
    response = client.post(
        url(family, f"contacts/{rosa.pk}/edit/"), {"name": "Rosa D", "phone": "512-555-3031"}
    )
    assert response.status_code == 302
    assert client.post(url(family, f"contacts/{rosa.pk}/remove/")).status_code == 302
    with activate_account(family.account):
        assert not EmergencyContact.objects.exists()


def test_policy_pages_and_acceptance(client, family, alice, account_a):
    office_login(client, account_a, "alice")
    response = client.post(
        "/alpha/office/families/policies/new/",
        {"name": "Liability waiver", "kind": "waiver", "text": "v1 text"},
    )
    assert response.status_code == 302
    with activate_account(account_a):
        from classbook.families.models import Policy, PolicyVersion

        policy = Policy.objects.get()
    response = client.post(
        f"/alpha/office/families/policies/{policy.pk}/revise/",
        {"name": "Liability waiver", "kind": "waiver", "text": "v2 text"},
    )
    assert response.status_code == 302
    page = client.get(f"/alpha/office/families/policies/{policy.pk}/").content.decode()
    assert "Version 2" in page and "v1 text" in page
    with activate_account(account_a):
        v2 = PolicyVersion.objects.get(version=2)
    maria = _in_a(family.account, family.guardians.get)
    response = client.post(
        url(family, "policies/accept/"),
        {
            "guardian": maria.pk,
            "policy_version": v2.pk,
            "method": "paper",
            "accepted_on": date.today().isoformat(),
        },
    )
    assert response.status_code == 302
    with activate_account(account_a):
        acceptance = PolicyAcceptance.objects.get()
        assert acceptance.policy_version == v2 and acceptance.accepted_by == alice
    page = client.get(url(family)).content.decode()
    assert "Liability waiver</span> version 2" in page


def test_front_desk_can_view_policies_but_not_publish(client, account_a, family):
    make_staff(account_a, "desk", groups=("Front Desk",))
    office_login(client, account_a, "desk")
    assert client.get("/alpha/office/families/policies/").status_code == 200
    assert client.get("/alpha/office/families/policies/new/").status_code == 403


def test_invite_from_the_family_page(
    client, family, alice, mailoutbox, django_capture_on_commit_callbacks
):
    office_login(client, family.account, "alice")
    maria = _in_a(family.account, family.guardians.get)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(family, f"guardians/{maria.pk}/invite/"), follow=True)
    assert "We emailed maria.garcia@example.com" in response.content.decode()
    assert len(mailoutbox) == 1
    assert "http://testserver/alpha/portal/password/" in mailoutbox[0].body


# --- merge -------------------------------------------------------------------------------


def test_merge_flow(client, family, alice, account_a):
    with activate_account(account_a):
        dup = create_family(
            guardian=guardian_details(
                first_name="Jose", email="j@example.com", mobile_phone="737 555 0001"
            ),
            students=[student_details(first_name="Leo")],
            allow_duplicate=True,
        )
    office_login(client, account_a, "alice")
    response = client.get(
        url(family, "merge/") + "?q=jose", HTTP_HX_TARGET="merge-candidates", **HTMX
    )
    assert f"/merge/{dup.pk}/" in response.content.decode()
    preview = client.get(url(family, f"merge/{dup.pk}/"))
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Leo Garcia" in page and "Jose Garcia" in page
    response = client.post(url(family, f"merge/{dup.pk}/"), {"keep": str(family.pk)})
    assert response.status_code == 400  # confirmation not ticked
    with activate_account(account_a):
        assert Family.objects.get(pk=dup.pk).merged_into is None
    response = client.post(
        url(family, f"merge/{dup.pk}/"), {"keep": str(family.pk), "confirm": "on"}
    )
    assert response.status_code == 302
    with activate_account(account_a):
        assert Family.objects.get(pk=dup.pk).merged_into_id == family.pk
        assert family.students.count() == 3
    # The merged family's page leads to the kept family.
    response = client.get(f"/alpha/office/families/{dup.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/alpha/office/families/{family.pk}/"


def test_merge_keeping_the_other_family(client, family, alice, account_a):
    with activate_account(account_a):
        other = create_family(
            name="Garcia",
            guardian=guardian_details(email="x@example.com", mobile_phone="7375550002"),
        )
    office_login(client, account_a, "alice")
    client.post(url(family, f"merge/{other.pk}/"), {"keep": str(other.pk), "confirm": "on"})
    with activate_account(account_a):
        family.refresh_from_db()
    assert family.merged_into_id == other.pk
