"""The PNG chart of a bench report: the rush's throughput and latency per concurrency.

Left: completed checkouts per second at each number of concurrent parents. Right: p50,
p95 and p99 of the whole parent flow. The limits measured in the same run (bare Django
view, pgbench) are in the title, since the figures are only meaningful beside them.
"""

from __future__ import annotations

from pathlib import Path


def rush_details(report: dict) -> dict | None:
    for run in report.get("runs", []):
        details = run.get("details", {}).get("rush")
        if details and details.get("levels"):
            return details
    return None


def write_chart(report: dict, path: Path) -> bool:
    """Draw the chart; False (and no file) when the report has no rush levels."""
    details = rush_details(report)
    if details is None:
        return False
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to the file
    import matplotlib.pyplot as plt

    levels = details["levels"]
    users = [str(level["users"]) for level in levels]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    rates = [level["checkouts_per_s"] for level in levels]
    bars = left.bar(users, rates, color="#1e5fa8")
    unfinished = [level["outcomes"].get("unfinished when the window closed", 0) for level in levels]
    left.bar_label(
        bars, labels=[f"{r:.1f}/s\n{u} unfinished" for r, u in zip(rates, unfinished, strict=True)]
    )
    left.margins(y=0.3)  # room for the two-line labels
    left.set_xlabel("concurrent parents")
    left.set_ylabel("completed checkouts / s")
    left.set_title("Throughput")
    for pct, style in ((50, "o-"), (95, "s--"), (99, "^:")):
        right.plot(
            users, [level["flow_ms"][str(pct)] / 1000 for level in levels], style, label=f"p{pct}"
        )
    right.set_xlabel("concurrent parents")
    right.set_ylabel("whole flow, seconds")
    # Only flows that finished inside the window have a time: with many unfinished, the
    # percentiles describe the lucky ones (see the bars' "unfinished").
    right.set_title("Latency of completed flows (log-in → confirmation)")
    right.set_ylim(bottom=0)
    right.legend()
    right.grid(alpha=0.3)
    bare = details["bare_view"]["requests_per_s"]
    tps = details["pgbench"]["tps"]
    figure.suptitle(
        f"Registration rush · {report.get('date', '')[:10]} · commit {report.get('commit', '')}"
        f" · limits: bare Django view {bare:.0f} req/s, pgbench {tps:.0f} tps",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True
