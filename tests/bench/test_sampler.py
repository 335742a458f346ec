"""The bench's CPU sampler counts only the CPU used inside its window."""

import subprocess
import sys
import time

from classbook.bench.sampler import Sampler, children_of

SPIN = "import time\nt = time.time()\nwhile time.time() - t < 4: pass"


def test_cpu_used_before_the_window_is_not_counted():
    # Two processes already busy for a second before the window (the second one seen in
    # the same first sample was once counted from its birth).
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(2)]
    try:
        time.sleep(1.0)
        with Sampler({"a": children_of(spinners[0].pid), "b": children_of(spinners[1].pid)}) as s:
            time.sleep(1.0)
        report = s.report()
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()
    shares = [report["groups"][name]["cpu_share_pct"] for name in ("a", "b")]
    # Each can use at most one of the machine's cores during the window.
    assert all(0 < share <= 100 / report["cores"] + 5 for share in shares), report
    assert report["groups"]["a"]["peak_rss_mb"]
