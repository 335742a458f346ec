"""/healthz: database, migrations and the worker heartbeat, as JSON; 503 when unwell."""

import signal
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from classbook.core import clock
from classbook.core.scheduler import enqueue_due_jobs
from classbook.core.tasks import housekeeping


@pytest.fixture
def keep_signal_handlers():
    """The in-process db_worker installs its own SIGINT/SIGTERM handlers."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def run_worker_batch() -> None:
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0
    )


def test_unhealthy_when_no_housekeeping_has_run(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    report = response.json()
    assert report["status"] == "error"
    assert report["database"] == {"ok": True}
    assert report["migrations"]["ok"] is True
    assert report["worker"]["ok"] is False
    assert report["worker"]["heartbeat_age_seconds"] is None


def test_unhealthy_when_housekeeping_was_only_enqueued(client, db):
    assert enqueue_due_jobs() == ["housekeeping"]
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["ok"] is False


@pytest.mark.django_db(transaction=True)
def test_healthy_after_the_worker_ran_housekeeping(client, keep_signal_handlers):
    assert enqueue_due_jobs() == ["housekeeping"]
    run_worker_batch()
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["status"] == "ok"
    assert all(report[part]["ok"] for part in ("database", "migrations", "worker"))
    assert 0 <= report["worker"]["heartbeat_age_seconds"] < 60
    assert "expired_sessions" in report["worker"]["last_result"]


def test_heartbeat_within_the_stale_limit_is_healthy(client, db):
    started = timezone.now()
    with clock.freeze(started):
        enqueue_due_jobs()
        housekeeping.call()
    limit = settings.CLASSBOOK_WORKER_STALE_SECONDS
    with clock.freeze(started + timedelta(seconds=limit - 1)):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"]["heartbeat_age_seconds"] == limit - 1


def test_heartbeat_older_than_the_stale_limit_is_unhealthy(client, db):
    started = timezone.now()
    with clock.freeze(started):
        enqueue_due_jobs()
        housekeeping.call()
    limit = settings.CLASSBOOK_WORKER_STALE_SECONDS
    with clock.freeze(started + timedelta(seconds=limit + 1)):
        response = client.get("/healthz")
    assert response.status_code == 503
    worker = response.json()["worker"]
    assert worker["ok"] is False
    assert worker["heartbeat_age_seconds"] == limit + 1
    assert "last heartbeat" in worker["error"]


def test_healthz_needs_no_login(client, db):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert "login" not in response.get("Location", "")
    assert "database" in response.json()


def test_healthz_is_not_cached(client, db):
    response = client.get("/healthz")
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_exempt_from_the_ssl_redirect(client, db, account_a, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 503
    # The exemption is narrow: every other page still goes to https.
    response = client.get(f"/{account_a.slug}/portal/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
