"""The load generator of the rush benchmark: simulated parents speaking real HTTP.

Run as its own process (``python -m classbook.bench.loadgen``), never imported by the
app: locust's gevent patches the standard library on import. Each simulated parent
(a locust ``FastHttpUser``) takes the next family from the parents file and goes through
the portal as a browser would, cookies and CSRF tokens included:

    log in → class finder → finder results for a program (the filter) → add 1–2 classes
    to the cart → checkout page → pay with the saved card → confirmation page

then starts over as the next family with a fresh cookie jar. ``--flow bare`` instead
GETs one URL in a loop (the bare Django view baseline, same client, same server setup).

After ``--warmup`` seconds the samples are dropped and ``--duration`` seconds are
measured; every step's time is kept raw (percentiles are computed by the caller), with
the outcomes counted by kind. The result is one JSON file (``--out``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ADD_FORM = re.compile(r'action="([^"]*/classes/(\d+)/add/)"')
PAY_FIELD = re.compile(r'name="(request_token|total_cents)" value="([^"]*)"')
ACCEPT = re.compile(r'name="(accept_\d+)"')
SAVED_CARD = re.compile(r'value="(card:\d+)"')


class Recorder:
    """Raw step timings and outcome counts, kept only once measuring has begun."""

    def __init__(self) -> None:
        self.measuring = False
        self.started = 0.0
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.outcomes: Counter[str] = Counter()
        self.in_flight = 0  # flows begun and not yet ended

    def begin(self) -> None:
        self.samples.clear()
        self.outcomes.clear()
        self.measuring = True
        self.started = time.perf_counter()

    def step(self, name: str, seconds: float) -> None:
        if self.measuring:
            self.samples[name].append(seconds * 1000)

    def outcome(self, kind: str) -> None:
        if self.measuring:
            self.outcomes[kind] += 1


class FlowError(Exception):
    """A step ended the flow; ``kind`` is what the results table counts."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def build_user_classes(args: argparse.Namespace, recorder: Recorder):
    from locust import FastHttpUser, task

    parents = json.loads(Path(args.parents).read_text()) if args.parents else {}
    slug = parents.get("slug", "")
    queue = iter(parents.get("parents", []))
    numbers = itertools.count()  # each simulated parent's own random stream
    portal = f"/{slug}/portal"

    class Parent(FastHttpUser):
        # One connection per parent, as a browser tab; no think time: a rush.
        concurrency = 1
        network_timeout = 30.0
        connection_timeout = 10.0
        insecure = True

        def on_start(self) -> None:
            self.rng = random.Random(args.seed * 1000 + next(numbers))

        def _timed(self, step: str, method: str, path: str, **kwargs):
            started = time.perf_counter()
            with self.client.request(
                method, path, name=step, catch_response=True, allow_redirects=False, **kwargs
            ) as response:
                response.success()  # outcomes are judged below, not by locust
                recorder.step(step, time.perf_counter() - started)
                return response

        def _expect(self, response, step: str, statuses: tuple[int, ...]):
            if response.status_code in statuses:
                return response
            if response.status_code == 0:
                raise FlowError(f"{step}: connection error")
            raise FlowError(f"{step}: HTTP {response.status_code}")

        def _post(self, step: str, path: str, page: str, data: dict):
            token = CSRF.search(page)
            if token is None:
                raise FlowError(f"{step}: no CSRF token on the page")
            form = {"csrfmiddlewaretoken": token.group(1), **data}
            return self._timed(step, "POST", path, data=form, headers={"Referer": self.host})

        def _flow(self, parent: dict) -> str:
            self.client.cookiejar.clear()
            page = self._expect(
                self._timed("log-in page", "GET", f"{portal}/login/"), "log-in", (200,)
            )
            response = self._post(
                "log in",
                f"{portal}/login/",
                page.text,
                {"username": parent["email"], "password": parents["password"], "next": ""},
            )
            self._expect(response, "log in", (302,))
            self._expect(self._timed("class finder", "GET", f"{portal}/find/"), "finder", (200,))
            students = parent["students"][: self.rng.choice((1, 2))]
            added = 0
            for student in students:
                query = f"location=any&student={student}&program={parents['program']}&when=1"
                results = self._expect(
                    self._timed("finder results", "GET", f"{portal}/find/?{query}"),
                    "finder results",
                    (200,),
                ).text
                choices = [path for path, _ in ADD_FORM.findall(results)]
                self.rng.shuffle(choices)
                for path in choices[:3]:  # a full class: try the next one shown
                    response = self._post("add to cart", path, results, {"student": student})
                    if response.status_code == 302:
                        added += 1
                        break
                    if response.status_code == 409 and "full" in response.text.lower():
                        recorder.outcome("class full (tried another)")
                        continue
                    self._expect(response, "add to cart", (302,))
            if not added:
                raise FlowError("sold out: no class with a seat left")
            page = self._expect(
                self._timed("checkout page", "GET", f"{portal}/checkout/"), "checkout", (200,)
            ).text
            card = SAVED_CARD.search(page)
            if card is None:
                raise FlowError("checkout: the saved card is not offered")
            fields = dict(PAY_FIELD.findall(page))
            accept = dict.fromkeys(ACCEPT.findall(page), "on")
            response = self._post(
                "pay",
                f"{portal}/checkout/pay/",
                page,
                {**fields, **accept, "method": card.group(1)},
            )
            if response.status_code == 402:
                raise FlowError("pay: card declined")
            if response.status_code == 409:
                raise FlowError("pay: total changed (409)")
            done = self._expect(response, "pay", (302,)).headers.get("Location", "")
            page = self._expect(
                self._timed("confirmation", "GET", done), "confirmation", (200,)
            ).text
            if "You are enrolled" not in page:
                raise FlowError("confirmation: not enrolled")
            return "checkout completed"

        @task
        def register(self) -> None:
            if args.flow == "bare":
                started = time.perf_counter()
                response = self.client.get(args.path, name="bare view")
                recorder.step("bare view", time.perf_counter() - started)
                recorder.outcome(
                    "ok" if response.status_code == 200 else f"HTTP {response.status_code}"
                )
                return
            parent = next(queue, None)
            if parent is None:
                recorder.outcome("no parents left (raise --parents)")
                self.stop(force=False)
                return
            started = time.perf_counter()
            recorder.in_flight += 1
            try:
                kind = self._flow(parent)
            except FlowError as error:
                recorder.outcome(error.kind)
                return
            finally:
                recorder.in_flight -= 1
            recorder.step("whole flow", time.perf_counter() - started)
            recorder.outcome(kind)

    return Parent


def run(args: argparse.Namespace) -> dict:
    import gevent
    from locust.env import Environment

    recorder = Recorder()
    user_class = build_user_classes(args, recorder)
    env = Environment(user_classes=[user_class], host=args.host)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=max(1, args.users))
    gevent.sleep(args.warmup)
    recorder.begin()
    gevent.sleep(args.duration)
    elapsed = time.perf_counter() - recorder.started
    if recorder.in_flight:
        # Flows still going when the window closed: their times are in no percentile.
        recorder.outcome("unfinished when the window closed")
        recorder.outcomes["unfinished when the window closed"] = recorder.in_flight
    recorder.measuring = False
    runner.quit()
    return {
        "flow": args.flow,
        "users": args.users,
        "warmup_s": args.warmup,
        "duration_s": round(elapsed, 3),
        "samples_ms": recorder.samples,
        "outcomes": dict(recorder.outcomes),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m classbook.bench.loadgen")
    parser.add_argument("--host", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--flow", choices=["rush", "bare"], default="rush")
    parser.add_argument("--parents", help="JSON file: slug, password, program, parents")
    parser.add_argument("--path", default="/", help="--flow bare: the URL path to GET")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.flow == "rush" and not args.parents:
        parser.error("--flow rush needs --parents")
    result = run(args)
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
