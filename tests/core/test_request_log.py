"""One structured log line per request: account, user, method, path, status, duration."""

import json
import logging

import pytest

from classbook.core.logging import JsonFormatter
from tests.conftest import office_login


@pytest.fixture
def request_records(caplog):
    caplog.set_level(logging.INFO, logger="classbook.request")

    def records_of(response_maker):
        caplog.clear()
        response_maker()
        return [r for r in caplog.records if r.name == "classbook.request"]

    return records_of


def test_one_line_for_a_logged_in_office_request(client, alice, account_a, request_records):
    office_login(client, account_a, "alice")
    records = request_records(lambda: client.get("/alpha/office/?x=1"))
    assert len(records) == 1
    fields = records[0].fields
    assert fields["account"] == "alpha"
    assert fields["user"] == "alice"
    assert fields["user_id"] == alice.pk
    assert fields["method"] == "GET"
    assert fields["path"] == "/alpha/office/"
    assert fields["status"] == 200
    assert isinstance(fields["duration_ms"], float)
    assert fields["duration_ms"] >= 0


def test_anonymous_request_logs_no_user(client, account_a, request_records):
    records = request_records(lambda: client.get("/alpha/office/"))
    assert len(records) == 1
    fields = records[0].fields
    assert fields["account"] == "alpha"
    assert fields["user"] is None
    assert fields["status"] == 302


def test_post_and_its_status_are_logged(client, account_a, request_records):
    records = request_records(
        lambda: client.post("/alpha/office/login/", {"username": "nobody", "password": "x"})
    )
    assert len(records) == 1
    assert records[0].fields["method"] == "POST"
    assert records[0].fields["status"] == 400


def test_unknown_account_is_logged_as_404_without_account(client, db, request_records):
    records = request_records(lambda: client.get("/no-such-business/office/"))
    assert len(records) == 1
    assert records[0].fields["account"] is None
    assert records[0].fields["status"] == 404


def test_request_outside_any_account(client, db, request_records):
    records = request_records(lambda: client.get("/healthz"))
    assert len(records) == 1
    assert records[0].fields["account"] is None
    assert records[0].fields["path"] == "/healthz"


def test_the_line_is_one_json_object(client, alice, account_a, request_records):
    office_login(client, account_a, "alice")
    (record,) = request_records(lambda: client.get("/alpha/office/"))
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["logger"] == "classbook.request"
    assert data["level"] == "INFO"
    assert data["message"] == "request"
    for key in ("time", "account", "user", "method", "path", "status", "duration_ms"):
        assert key in data
    assert (data["account"], data["user"], data["status"]) == ("alpha", "alice", 200)
