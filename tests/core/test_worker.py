"""The task worker: periodic scheduling, housekeeping and tasks that run inside one account."""

import signal
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone
from django_scopes import ScopeError
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from classbook.accounts.models import Location
from classbook.core import clock
from classbook.core.models import PeriodicJob
from classbook.core.scheduler import enqueue_due_jobs
from classbook.core.tasks import housekeeping
from classbook.core.tenancy import current_account
from tests.conftest import is_postgres
from tests.core import tasks_for_tests


@pytest.fixture
def keep_signal_handlers():
    """The in-process db_worker installs its own SIGINT/SIGTERM handlers."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def run_worker(keep_signal_handlers):
    """Run the real django-tasks database worker in-process until the queue is empty."""

    def run() -> None:
        call_command(
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            "--interval",
            "0",
            verbosity=0,
        )

    return run


def finished(result):
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    return result.return_value


# --- scheduler ----------------------------------------------------------------------------


def test_a_due_job_is_enqueued_once(db):
    start = timezone.now()
    with clock.freeze(start):
        assert enqueue_due_jobs() == ["housekeeping"]
        assert enqueue_due_jobs() == []
    assert DBTaskResult.objects.count() == 1
    assert DBTaskResult.objects.get().task_path == "classbook.core.tasks.housekeeping"


def test_the_job_is_not_due_again_before_its_interval(db):
    start = timezone.now()
    interval = timedelta(seconds=settings.CLASSBOOK_HOUSEKEEPING_SECONDS)
    with clock.freeze(start):
        enqueue_due_jobs()
    with clock.freeze(start + interval - timedelta(seconds=1)):
        assert enqueue_due_jobs() == []
    assert DBTaskResult.objects.count() == 1


def test_the_job_is_enqueued_again_after_its_interval(db):
    start = timezone.now()
    interval = timedelta(seconds=settings.CLASSBOOK_HOUSEKEEPING_SECONDS)
    with clock.freeze(start):
        enqueue_due_jobs()
    with clock.freeze(start + interval):
        assert enqueue_due_jobs() == ["housekeeping"]
    assert DBTaskResult.objects.count() == 2
    job = PeriodicJob.objects.get(name="housekeeping")
    assert job.last_enqueued_at == start + interval
    assert job.next_run_at == start + 2 * interval


# --- housekeeping -------------------------------------------------------------------------


def make_session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["marker"] = "x"
    store.create()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires_in
    )
    return store.session_key


@pytest.mark.django_db(transaction=True)
def test_housekeeping_in_the_worker_deletes_expired_sessions(run_worker):
    expired = make_session(timedelta(minutes=-1))
    live = make_session(timedelta(hours=1))
    enqueue_due_jobs()
    run_worker()
    assert not Session.objects.filter(session_key=expired).exists()
    assert Session.objects.filter(session_key=live).exists()


@pytest.mark.django_db(transaction=True)
def test_housekeeping_in_the_worker_stamps_the_heartbeat(run_worker):
    make_session(timedelta(minutes=-1))
    enqueue_due_jobs()
    run_worker()
    task_result = DBTaskResult.objects.get()
    assert task_result.status == TaskResultStatus.SUCCESSFUL
    job = PeriodicJob.objects.get(name="housekeeping")
    assert job.last_finished_at is not None
    assert job.last_result["expired_sessions"] == 1
    assert task_result.return_value == job.last_result


def test_housekeeping_deletes_only_old_finished_task_results(db):
    enqueue_due_jobs()
    old = DBTaskResult.objects.get()
    old.status = TaskResultStatus.SUCCESSFUL
    old.finished_at = timezone.now() - timedelta(days=15)
    old.save()
    housekeeping.enqueue()  # still READY: kept
    result = housekeeping.call()
    assert result["old_task_results"] == 1
    assert not DBTaskResult.objects.filter(pk=old.pk).exists()
    assert DBTaskResult.objects.count() == 1


# --- tenant_task --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_tenant_task_runs_inside_the_given_account(run_worker, account_a, account_b):
    result = tasks_for_tests.location_names.enqueue(account_id=account_a.pk)
    run_worker()
    assert finished(result) == {
        "account": "alpha",
        "active_account": "alpha",
        "locations": ["Alpha Gym Main"],
    }


@pytest.mark.django_db(transaction=True)
def test_tenant_tasks_of_two_accounts_each_see_their_own_rows(run_worker, account_a, account_b):
    for_a = tasks_for_tests.location_names.enqueue(account_id=account_a.pk)
    for_b = tasks_for_tests.location_names.enqueue(account_id=account_b.pk)
    run_worker()
    assert finished(for_a)["locations"] == ["Alpha Gym Main"]
    assert finished(for_b)["locations"] == ["Bravo Swim Main"]


@pytest.mark.django_db(transaction=True)
def test_tenant_task_leaves_no_account_active(run_worker, account_a):
    tasks_for_tests.location_names.enqueue(account_id=account_a.pk)
    run_worker()
    assert current_account() is None
    with pytest.raises(ScopeError):
        list(Location.objects.all())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tenant_task_raw_sql_sees_only_its_account_on_postgres(run_worker, account_a, account_b):
    if not is_postgres():
        pytest.skip("row-level security is a PostgreSQL feature")
    result = tasks_for_tests.raw_location_account_ids.enqueue(account_id=account_a.pk)
    run_worker()
    assert finished(result) == [account_a.pk]


def test_tenant_task_call_passes_the_account(account_a):
    assert tasks_for_tests.location_names.call(account_id=account_a.pk)["account"] == "alpha"
