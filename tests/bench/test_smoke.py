"""A small run of every bench scenario, so ``scripts/bench`` cannot rot.

Each runs ``python -m classbook.bench`` as ``scripts/bench`` does (its own processes,
a throwaway database) at a size that takes seconds, and checks the report it writes.
Nothing here asserts a speed: the figures are the benchmark's business, not the suite's.
"""

import json
import os
import subprocess
import sys

import pytest

from classbook.bench import load_scenarios
from classbook.bench.rush import NOT_ERRORS

ON_POSTGRES = os.environ.get("CLASSBOOK_DATABASE_URL", "").startswith("postgres")


def _bench(tmp_path, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "classbook.bench", "--output-dir", str(tmp_path), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    (report_file,) = tmp_path.glob("*.json")
    return json.loads(report_file.read_text())


def _groups(run: dict) -> set[str]:
    return {row["group"] for row in run["rows"]}


def test_every_scenario_runs_on_sqlite_and_reports_rows(tmp_path):
    report = _bench(tmp_path, "--families", "40", "--repeat", "1", "--database", "sqlite")
    (run,) = report["runs"]
    assert run["database"] == "sqlite" and run["families"] == 40
    assert _groups(run) == set(load_scenarios())
    rush = [row for row in run["rows"] if row["group"] == "rush"]
    assert [row["note"] for row in rush] == ["PostgreSQL only: skipped on SQLite"]
    billing = next(row for row in run["rows"] if row["group"] == "billing_run")
    assert "enrollments/s" in billing["note"] and billing["queries_per_request"] > 0


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="the rush needs PostgreSQL")
def test_every_scenario_runs_on_postgresql_and_the_rush_keeps_the_invariants(tmp_path):
    # All scenarios in one run, as ./scripts/bench does: they share the account.
    report = _bench(
        tmp_path,
        "--database",
        "postgresql",
        "--repeat",
        "1",
        "--families",
        "150",
        "--rush-users",
        "3",
        "--rush-parents",
        "80",  # more than 3 parents can get through in 7 s on a quiet machine
        "--rush-classes",
        "10",
        "--rush-warmup",
        "1",
        "--rush-duration",
        "6",
    )
    (run,) = report["runs"]
    assert _groups(run) == set(load_scenarios())
    details = run["details"]["rush"]
    assert details["bare_view"]["requests_per_s"] > 0 and details["pgbench"]["tps"] > 0
    (level,) = details["levels"]
    checks = level["checks"]
    # Parents really paid and enrolled (warm-up included), and nothing broke.
    assert checks["gateway_payments"] >= 1 and checks["enrollments"] >= 1
    assert checks["meetings_over_capacity"] == 0
    assert checks["duplicate_enrollments"] == 0
    assert checks["payments_missing_from_ledger"] == 0
    assert checks["payments_recorded_twice"] == 0
    unexpected = set(level["outcomes"]) - NOT_ERRORS
    assert not unexpected, level["outcomes"]
    assert set(level["usage"]["groups"]) == {
        "web",
        "PostgreSQL",
        "gateway",
        "task worker",
        "load generator",
    }
    assert (tmp_path / f"{report['date'][:10]}.png").stat().st_size > 10_000
