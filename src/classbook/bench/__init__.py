"""Benchmarks (``scripts/bench``): timed scenarios against a throwaway database.

A scenario is a function registered with ``@scenario("name", "what it measures")``; it
gets a ``BenchContext`` (an account filled with generated data, a logged-in test client)
and returns ``Row``s: one line of the results table each. ``python -m classbook.bench``
builds the database, runs the scenarios chosen with ``--scenario`` (all by default) and
writes the table and ``bench-results/<date>.json``.

Speed is measured here, never asserted in tests (tests only run a small smoke version).
"""

from __future__ import annotations

import importlib
import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Modules whose import registers scenarios; a new scenario module is added here.
SCENARIO_MODULES = [
    "classbook.bench.family_search",
    "classbook.bench.billing_run",
    "classbook.bench.office_pages",
    "classbook.bench.rush",
]


@dataclass
class BenchContext:
    account: object  # classbook.accounts.models.Account
    client: object  # django.test.Client, logged in as a staff member with every permission
    families: int
    seed: int
    repeat: int
    options: dict = field(default_factory=dict)  # every command-line option, by name
    extra: dict = field(default_factory=dict)  # a scenario's details for the JSON file


@dataclass
class Row:
    scenario: str
    samples_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    note: str = ""  # a throughput or size figure shown beside the timings

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.samples_ms) if self.samples_ms else 0.0

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples_ms, 95)

    @property
    def p99_ms(self) -> float:
        return percentile(self.samples_ms, 99)

    def as_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "p50_ms": round(self.p50_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(max(self.samples_ms, default=0.0), 2),
            "samples": len(self.samples_ms),
            "queries_per_request": max(self.queries, default=0),
            "queries_min": min(self.queries, default=0),
            "note": self.note,
        }


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    run: Callable[[BenchContext], list[Row]]


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, description: str):
    def register(run: Callable[[BenchContext], list[Row]]):
        if name in SCENARIOS:
            raise ValueError(f"bench scenario {name!r} registered twice")
        SCENARIOS[name] = Scenario(name=name, description=description, run=run)
        return run

    return register


def load_scenarios() -> dict[str, Scenario]:
    for module in SCENARIO_MODULES:
        importlib.import_module(module)
    return SCENARIOS


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@contextmanager
def measure(row: Row) -> Iterator[None]:
    """Time the block and count its SQL queries into ``row``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        yield
        elapsed = (time.perf_counter() - started) * 1000
    row.samples_ms.append(elapsed)
    row.queries.append(len(captured.captured_queries))


def postgres_admin(url: str):
    """An autocommit connection to the server's ``postgres`` database with the role and
    address of ``url``: for making and dropping the benchmarks' scratch databases."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def analyze_tables() -> None:
    """Fresh planner statistics after building data, as autovacuum would have made by the
    time a real account got this big. ANALYZE needs the tables' owner: run as the app
    role it skips every table (with a warning) and plans stay those of empty tables."""
    from django.db import connection

    from classbook.core.dbroles import owner_connection

    if connection.vendor != "postgresql":
        return
    with owner_connection(), connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def format_table(rows: list[dict]) -> str:
    headers = ["scenario", "n", "p50 ms", "p95 ms", "p99 ms", "queries/request", "note"]
    lines = [
        [
            r["scenario"],
            str(r["samples"]),
            *(f"{r[k]:.1f}" if r["samples"] else "" for k in ("p50_ms", "p95_ms", "p99_ms")),
            str(r["queries_per_request"]) if r["queries_per_request"] else "",
            r.get("note", ""),
        ]
        for r in rows
    ]
    text = {0, len(headers) - 1}  # left-aligned columns
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = [
        "  ".join(
            h.ljust(w) if i in text else h.rjust(w)
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        ),
        "  ".join("-" * w for w in widths),
    ]
    for line in lines:
        out.append(
            "  ".join(
                c.ljust(w) if i in text else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    return "\n".join(out)


__all__ = [
    "SCENARIOS",
    "BenchContext",
    "Row",
    "Scenario",
    "analyze_tables",
    "format_table",
    "load_scenarios",
    "measure",
    "percentile",
    "postgres_admin",
    "scenario",
]
