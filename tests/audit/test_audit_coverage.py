"""Every service that changes data writes exactly one audit entry, in its transaction.

A scenario (tests/<app>/audit_scenarios.py) is ``ctx -> call``: it does its set-up, then
returns the zero-argument call of the service under test.
"""

import importlib
import inspect
import pkgutil

import pytest

import classbook
from classbook.audit.context import acting_as, actor_for_user
from classbook.audit.models import LogEntry
from classbook.core.tenancy import activate_account
from tests.discovery import merged

SCENARIOS = merged("audit_scenarios", "SCENARIOS")
EXEMPT = merged("audit_scenarios", "EXEMPT")


def public_services() -> set[str]:
    names = set()
    for app in pkgutil.iter_modules(classbook.__path__):
        if app.name == "audit":  # the log itself (log_action and its helpers)
            continue
        try:
            module = importlib.import_module(f"classbook.{app.name}.services")
        except ModuleNotFoundError as exc:
            if exc.name != f"classbook.{app.name}.services":
                raise
            continue
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            if obj.__module__ == module.__name__ and not name.startswith("_"):
                names.add(f"{module.__name__}.{name}")
    return names


def test_every_service_has_an_audit_scenario():
    missing = public_services() - set(SCENARIOS) - set(EXEMPT)
    assert not missing, f"add an audit scenario (tests/<app>/audit_scenarios.py) for {missing}"


def test_scenarios_name_real_services():
    assert set(SCENARIOS) <= public_services()


@pytest.mark.parametrize("service", sorted(SCENARIOS))
def test_service_writes_exactly_one_entry(service, account_a, location_a, alice, bob, request):
    # ``request`` lets a scenario ask for more fixtures (the gateway sandbox).
    ctx = {
        "account": account_a,
        "alice": alice,
        "bob": bob,
        "location": location_a,
        "request": request,
    }
    with activate_account(account_a), acting_as(actor_for_user(alice)):
        call = SCENARIOS[service](ctx)  # set-up, which may write entries of its own
        before = LogEntry.objects.count()
        result = call()
        target = result if isinstance(result, type(account_a)) else account_a
        if target == account_a:
            entries = list(LogEntry.objects.order_by("-id")[: LogEntry.objects.count() - before])
            assert len(entries) == 1, [e.action for e in entries]
            assert entries[0].actor_id == alice.pk
    if target != account_a:
        with activate_account(target):
            assert LogEntry.objects.count() == 1
