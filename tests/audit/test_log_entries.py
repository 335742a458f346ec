"""LogEntry is append-only (in Python and, on PostgreSQL, in the database); log_action's rules."""

import pytest
from django.db import DatabaseError, connection, transaction

from classbook.accounts.services import location_save
from classbook.audit.actions import ACTIONS, action_label, register_action
from classbook.audit.context import Actor, acting_as, actor_for_user, current_actor
from classbook.audit.models import LogEntry
from classbook.audit.services import MASK, changes_between, created_fields, log_action
from classbook.core.tenancy import activate_account
from tests.conftest import is_postgres, make_account, office_login

CODE = register_action("test.something_done", "Something done (tests)")


@pytest.fixture
def entry(account_a):
    with activate_account(account_a), transaction.atomic():
        return log_action(action=CODE, label="an entry", changes={"name": ["a", "b"]})


# --- append-only in Python ---------------------------------------------------------------


def test_saving_an_existing_entry_raises(account_a, entry):
    with activate_account(account_a):
        entry.object_label = "edited"
        with pytest.raises(TypeError, match="cannot be changed"):
            entry.save()
        assert LogEntry.objects.get(pk=entry.pk).object_label == "an entry"


def test_deleting_an_entry_raises(account_a, entry):
    with activate_account(account_a):
        with pytest.raises(TypeError, match="cannot be deleted"):
            entry.delete()
        assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_queryset_update_raises(account_a, entry):
    with activate_account(account_a):
        with pytest.raises(TypeError, match="append-only"):
            LogEntry.objects.filter(pk=entry.pk).update(object_label="edited")
        with pytest.raises(TypeError, match="append-only"):
            LogEntry.objects.all().update(action="x")
        assert LogEntry.objects.get(pk=entry.pk).object_label == "an entry"


def test_queryset_delete_raises(account_a, entry):
    with activate_account(account_a):
        with pytest.raises(TypeError, match="append-only"):
            LogEntry.objects.filter(pk=entry.pk).delete()
        with pytest.raises(TypeError, match="append-only"):
            LogEntry.objects.all().delete()
        assert LogEntry.objects.filter(pk=entry.pk).exists()


# --- append-only in PostgreSQL ----------------------------------------------------------------


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.postgres
def test_raw_update_is_rejected_by_the_database(account_a, entry):
    if not is_postgres():
        pytest.skip("the append-only trigger is PostgreSQL's")
    with activate_account(account_a):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("UPDATE audit_logentry SET object_label = 'edited' WHERE id = %s", [entry.pk])
        assert LogEntry.objects.get(pk=entry.pk).object_label == "an entry"


@pytest.mark.postgres
def test_raw_delete_is_rejected_by_the_database(account_a, entry):
    if not is_postgres():
        pytest.skip("the append-only trigger is PostgreSQL's")
    with activate_account(account_a):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("DELETE FROM audit_logentry WHERE id = %s", [entry.pk])
        assert LogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
def test_raw_bulk_delete_of_the_whole_account_is_rejected(account_a, entry):
    if not is_postgres():
        pytest.skip("the append-only trigger is PostgreSQL's")
    with activate_account(account_a):
        count = LogEntry.objects.count()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("DELETE FROM audit_logentry WHERE account_id = %s", [account_a.pk])
        assert LogEntry.objects.count() == count


@pytest.mark.postgres
def test_raw_insert_is_allowed(account_a, entry):
    if not is_postgres():
        pytest.skip("PostgreSQL only")
    with activate_account(account_a), transaction.atomic():
        _raw(
            "INSERT INTO audit_logentry (account_id, created_at, actor_kind, actor_label, "
            "impersonator_label, action, object_type, object_id, object_label, changes, "
            "user_agent) VALUES (%s, now(), 'system', 'raw', '', %s, '', '', '', '{}', '')",
            [account_a.pk, CODE],
        )
        assert LogEntry.objects.filter(actor_label="raw").count() == 1


# --- log_action's rules -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_log_action_outside_a_transaction_raises():
    account = make_account("foxtrot", "Foxtrot Fencing")
    with activate_account(account):
        before = LogEntry.objects.count()
        assert not connection.in_atomic_block
        with pytest.raises(RuntimeError, match="inside the service's transaction"):
            log_action(action=CODE, label="outside")
        assert LogEntry.objects.count() == before


def test_unregistered_action_code_raises(account_a):
    with activate_account(account_a), transaction.atomic():
        with pytest.raises(ValueError, match="unregistered audit action"):
            log_action(action="test.never_registered", label="x")
        assert not LogEntry.objects.filter(action="test.never_registered").exists()


def test_an_action_code_cannot_be_registered_with_two_labels():
    assert register_action(CODE, "Something done (tests)") == CODE  # same label: fine
    with pytest.raises(ValueError, match="registered twice"):
        register_action(CODE, "A different label")
    assert ACTIONS[CODE] == "Something done (tests)"


def test_action_labels_for_display():
    assert action_label("support.visit_started") == "Classbook support entered the office"
    assert action_label("unknown.code") == "unknown.code"


@pytest.mark.parametrize(
    "field",
    [
        "password",
        "new_password",
        "api_token",
        "client_secret",
        "card_number",
        "cvc",
        "cvv",
        "api_key",
        "Webhook_Secret",
    ],
)
def test_secrets_in_changes_are_masked(account_a, field):
    with activate_account(account_a), transaction.atomic():
        entry = log_action(action=CODE, changes={field: ["old-value-1", "new-value-2"]})
        stored = LogEntry.objects.get(pk=entry.pk)
    assert stored.changes == {field: [MASK, MASK]}


def test_ordinary_fields_are_kept(account_a):
    with activate_account(account_a), transaction.atomic():
        entry = log_action(
            action=CODE, changes={"name": ["Old", "New"], "phone": [None, "(512) 555-0101"]}
        )
        stored = LogEntry.objects.get(pk=entry.pk)
    assert stored.changes == {"name": ["Old", "New"], "phone": [None, "(512) 555-0101"]}


def test_change_helpers_mask_secrets_and_list_only_changes():
    assert changes_between(
        {"name": "A", "password": "x", "city": "Austin"},
        {"name": "B", "password": "y", "city": "Austin"},
    ) == {"name": ["A", "B"], "password": [MASK, MASK]}
    assert created_fields({"token": "abc", "name": "N"}) == {
        "token": [None, MASK],
        "name": [None, "N"],
    }


def test_entry_records_the_current_actor_ip_and_user_agent(account_a, alice):
    class FakeRequest:
        META = {"REMOTE_ADDR": "198.51.100.9", "HTTP_USER_AGENT": "Tests/1.0"}

    with (
        activate_account(account_a),
        acting_as(actor_for_user(alice, request=FakeRequest())),
        transaction.atomic(),
    ):
        entry = log_action(action=CODE, obj=alice)
    assert entry.actor_id == alice.pk
    assert entry.actor_kind == "staff"
    assert entry.actor_label == "Alice"
    assert entry.ip == "198.51.100.9"
    assert entry.user_agent == "Tests/1.0"
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(alice.pk))
    assert entry.account_id == account_a.pk


def test_without_an_actor_entries_are_the_systems(account_a):
    assert current_actor().kind == "system"
    with activate_account(account_a), transaction.atomic():
        entry = log_action(action=CODE, label="nightly")
    assert entry.actor_kind == "system"
    assert entry.actor is None
    assert entry.actor_label == "Classbook (automatic)"


def test_the_actor_is_restored_after_the_block(alice):
    with acting_as(Actor(kind="staff", user=alice, label="Alice")):
        assert current_actor().user == alice
    assert current_actor().kind == "system"


def test_entries_belong_to_the_active_account(account_a, account_b, entry):
    with activate_account(account_b):
        assert not LogEntry.objects.filter(pk=entry.pk).exists()


def test_a_rolled_back_change_leaves_no_entry(account_a):
    with activate_account(account_a):
        before = LogEntry.objects.count()
        with pytest.raises(RuntimeError, match="later step failed"), transaction.atomic():
            log_action(action=CODE, label="doomed")
            raise RuntimeError("a later step failed")
        assert LogEntry.objects.count() == before


# --- what pages record ------------------------------------------------------------------------


def test_editing_a_location_on_its_page_records_what_changed(client, account_a, alice, location_a):
    office_login(client, account_a, "alice")
    client.post(
        f"/{account_a.slug}/office/settings/locations/{location_a.pk}/edit/",
        {
            "name": location_a.name,
            "city": "Austin",
            "phone": "(512) 555-0142",
            "timezone": location_a.timezone,
            "is_active": "on",
        },
    )
    with activate_account(account_a):
        [entry] = LogEntry.objects.filter(action="location.updated")
    assert entry.changes == {"phone": ["(512) 555-0100", "(512) 555-0142"]}


def test_location_save_records_what_changed(account_a, location_a):
    with activate_account(account_a):
        location_save(location=location_a, phone="(512) 555-0142")
        [entry] = LogEntry.objects.filter(action="location.updated")
    assert entry.changes == {"phone": ["(512) 555-0100", "(512) 555-0142"]}
