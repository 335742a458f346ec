"""The family-search benchmark runs (small), and the search page's query count is flat.

Speed itself is only measured by scripts/bench, never asserted here.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from classbook.bench import BenchContext, format_table, load_scenarios, percentile
from classbook.core.tenancy import activate_account
from classbook.demo.families import generate_families
from tests.conftest import PASSWORD


def test_percentile():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile([], 95) == 0.0


def test_family_search_scenario_runs_in_the_test_database(account_a, alice):
    with activate_account(account_a):
        generate_families(count=200, seed=7)
    client = Client()
    client.post("/alpha/office/login/", {"username": "alice", "password": PASSWORD})
    ctx = BenchContext(account=account_a, client=client, families=200, seed=7, repeat=1)
    rows = load_scenarios()["family_search"].run(ctx)
    table = [r.as_dict() for r in rows]
    names = [r["scenario"] for r in table]
    assert "selector: all queries" in names and "page (htmx): all queries" in names
    assert "selector: phone, any format" in names and "selector: student name" in names
    assert all(r["samples"] >= 1 for r in table)
    selector = next(r for r in table if r["scenario"] == "selector: all queries")
    assert selector["samples"] >= 18  # about 20 typical queries
    assert selector["queries_per_request"] <= 5  # count, page, 3 prefetches
    assert "p95 ms" in format_table(table)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_bench_command_with_200_families(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLASSBOOK_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "classbook.bench",
            "--families",
            "200",
            "--repeat",
            "1",
            "--database",
            "sqlite",
            "--scenario",
            "family_search",
            "--output-dir",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "selector: all queries" in result.stdout
    (report_file,) = tmp_path.glob("*.json")
    report = json.loads(report_file.read_text())
    (run,) = report["runs"]
    assert run["database"] == "sqlite" and run["families"] == 200
    assert {r["scenario"] for r in run["rows"]} >= {
        "selector: name prefix",
        "page (full, first page)",
    }
