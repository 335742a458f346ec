"""Guardian portal log-in: invitation link → password → log in → the family's students."""

import re

import pytest

from classbook.accounts.models import User
from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from classbook.families import services as svc
from tests.conftest import PASSWORD
from tests.families.conftest import create_family, guardian_details, student_details

NEW_PASSWORD = "Backflip-Summer-2026"


@pytest.fixture
def invited(account_a, mailoutbox, django_capture_on_commit_callbacks):
    with activate_account(account_a):
        family = create_family(students=[student_details(), student_details(first_name="Leo")])
        jose = svc.guardian_add(
            family=family, details=guardian_details(first_name="Jose", email="jose@example.com")
        )
        with django_capture_on_commit_callbacks(execute=True):
            svc.guardian_portal_invite(
                guardian=family.guardians.get(first_name="Maria"), base_url="http://testserver"
            )
    link = re.search(r"http://testserver(/alpha/portal/password/\S+/)", mailoutbox[-1].body)
    return {"family": family, "jose": jose, "path": link.group(1)}


def _set_password(client, path, password=NEW_PASSWORD):
    return client.post(path, {"new_password1": password, "new_password2": password})


def test_invitation_link_sets_the_password_then_guardian_logs_in(client, invited, account_a):
    page = client.get(invited["path"])
    assert page.status_code == 200 and "maria.garcia@example.com" in page.content.decode()
    response = _set_password(client, invited["path"])
    assert response.status_code == 302 and response["Location"] == "/alpha/portal/login/"
    # The link works once.
    assert client.get(invited["path"]).status_code == 400
    response = client.post(
        "/alpha/portal/login/",
        {"username": "Maria.Garcia@example.com", "password": NEW_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/alpha/portal/family/"
    page = client.get("/alpha/portal/family/").content.decode()
    assert "Hello, Maria" in page and "Ana Garcia" in page and "Leo Garcia" in page
    with activate_account(account_a):
        actions = list(
            LogEntry.objects.filter(object_id=str(invited["family"].pk))
            .order_by("id")
            .values_list("action", "actor_kind")
        )
    assert ("family.portal_password_set", "guardian") in actions
    assert ("family.portal_logged_in", "guardian") in actions
    response = client.post("/alpha/portal/logout/")
    assert response.status_code == 302
    assert client.get("/alpha/portal/family/").status_code == 302


def test_weak_password_is_refused(client, invited):
    response = _set_password(client, invited["path"], "password")
    assert response.status_code == 400
    assert client.get(invited["path"]).status_code == 200  # still usable


def test_bad_link_and_wrong_password(client, invited):
    assert client.get("/alpha/portal/password/MQ/not-a-token/").status_code == 400
    _set_password(client, invited["path"])
    response = client.post(
        "/alpha/portal/login/", {"username": "maria.garcia@example.com", "password": "nope"}
    )
    assert response.status_code == 400
    assert "do not match" in response.content.decode()


def test_family_page_needs_a_guardian_login(client, invited, alice):
    response = client.get("/alpha/portal/family/")
    assert response.status_code == 302
    assert response["Location"].startswith("/alpha/portal/login/?next=")
    # A staff session is not a guardian session.
    client.post("/alpha/office/login/", {"username": "alice", "password": PASSWORD})
    assert client.get("/alpha/portal/family/").status_code == 302


def test_staff_cannot_log_in_to_the_portal_nor_guardians_to_the_office(client, invited, alice):
    response = client.post("/alpha/portal/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    _set_password(client, invited["path"])
    response = client.post(
        "/alpha/office/login/", {"username": "maria.garcia@example.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 400


def test_guardian_session_does_not_open_the_office(client, invited):
    _set_password(client, invited["path"])
    client.post(
        "/alpha/portal/login/", {"username": "maria.garcia@example.com", "password": NEW_PASSWORD}
    )
    response = client.get("/alpha/office/families/")
    assert response.status_code == 302
    assert response["Location"].startswith("/alpha/office/login/")


def test_guardian_of_another_account_cannot_log_in_here(client, invited, account_b):
    _set_password(client, invited["path"])
    with activate_account(account_b):
        create_family(name="Bravo", guardian=guardian_details(last_name="Bravo"))
    response = client.post(
        "/bravo/portal/login/", {"username": "maria.garcia@example.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 400
    # Logged in to alpha, the session means nothing in bravo.
    client.post(
        "/alpha/portal/login/", {"username": "maria.garcia@example.com", "password": NEW_PASSWORD}
    )
    assert client.get("/bravo/portal/family/").status_code == 302


def test_removed_guardian_cannot_log_in(client, invited, account_a):
    _set_password(client, invited["path"])
    with activate_account(account_a):
        maria = invited["family"].guardians.get(first_name="Maria")
        svc.guardian_set_active(guardian=maria, active=False)
    response = client.post(
        "/alpha/portal/login/", {"username": "maria.garcia@example.com", "password": NEW_PASSWORD}
    )
    assert response.status_code == 400


def test_two_guardians_each_have_their_own_login(
    client, invited, account_a, mailoutbox, django_capture_on_commit_callbacks
):
    with activate_account(account_a), django_capture_on_commit_callbacks(execute=True):
        svc.guardian_portal_invite(guardian=invited["jose"], base_url="http://testserver")
    jose_path = re.search(r"http://testserver(\S+/)", mailoutbox[-1].body).group(1)
    _set_password(client, invited["path"])
    _set_password(client, jose_path, "Another-Long-Pass-77")
    response = client.post(
        "/alpha/portal/login/", {"username": "jose@example.com", "password": "Another-Long-Pass-77"}
    )
    assert response.status_code == 302
    assert "Hello, Jose" in client.get("/alpha/portal/family/").content.decode()
    with activate_account(account_a):
        assert User.objects.filter(kind=User.Kind.GUARDIAN).count() == 2


def test_after_a_merge_the_guardian_sees_the_kept_family(client, invited, account_a):
    _set_password(client, invited["path"])
    with activate_account(account_a):
        keep = create_family(
            name="Garcia",
            guardian=guardian_details(
                first_name="Rosa", email="rosa@example.com", mobile_phone="737 555 0000"
            ),
            students=[student_details(first_name="Mateo")],
            allow_duplicate=True,
        )
        svc.family_merge(keep=keep, merge=invited["family"])
    client.post(
        "/alpha/portal/login/", {"username": "maria.garcia@example.com", "password": NEW_PASSWORD}
    )
    page = client.get("/alpha/portal/family/").content.decode()
    assert "Mateo Garcia" in page and "Ana Garcia" in page
