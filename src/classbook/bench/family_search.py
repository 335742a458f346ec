"""Bench scenario ``family_search``: the family search selector and the search page.

About 20 typical front-desk queries, picked deterministically from the generated data:
the start of a family name, a whole name, guardian and student names, part of an email,
phone numbers typed in several ways, a one-letter query, no match, and the empty list.
Each query is timed ``repeat`` times after one warm-up, through the selector (what the
page needs: count + one page of families with guardians, students and tags) and through
Django's test client on the htmx endpoint that search-as-you-type calls.
"""

from __future__ import annotations

import random

from django.core.paginator import Paginator

from classbook.bench import BenchContext, Row, measure, scenario

PAGE_SIZE = 25
SEARCH_URL = "/{slug}/office/families/"


def typical_queries(seed: int) -> list[tuple[str, str]]:
    """(kind, query) pairs drawn from the active account's families."""
    from classbook.families.models import Family, Guardian, Student

    rng = random.Random(seed)
    ids = list(
        Family.objects.filter(merged_into__isnull=True).order_by("id").values_list("id", flat=True)
    )
    picks = [ids[rng.randrange(len(ids))] for _ in range(12)] if ids else []
    families = {f.pk: f for f in Family.objects.filter(pk__in=picks)}
    guardians = {
        g.family_id: g for g in Guardian.objects.filter(family_id__in=picks, is_primary=True)
    }
    students = {}
    for s in Student.objects.filter(family_id__in=picks).order_by("id"):
        students.setdefault(s.family_id, s)
    queries: list[tuple[str, str]] = []
    for index, pk in enumerate(picks):
        family, guardian, student = families[pk], guardians.get(pk), students.get(pk)
        if index < 3:
            queries.append(("name prefix", family.name[:3].lower()))
        elif index < 5:
            queries.append(("family name", family.name))
        elif index < 7 and guardian:
            queries.append(("guardian name", f"{guardian.first_name} {guardian.last_name}"))
        elif index < 9 and guardian and guardian.email:
            local = guardian.email.split("@")[0]
            queries.append(("email fragment", local[: max(4, len(local) // 2)]))
        elif index < 11 and guardian and guardian.mobile_digits:
            digits = guardian.mobile_digits
            queries.append(("phone, any format", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"))
            queries.append(("phone, last digits", digits[-4:]))
        elif student:
            queries.append(("student name", f"{student.first_name} {student.last_name}"))
            queries.append(("student name", student.first_name))
    queries += [("one letter", "m"), ("no match", "zzqxj"), ("empty (first page)", "")]
    return queries


def _selector_page(query: str) -> int:
    from classbook.families.selectors import family_search

    page = Paginator(family_search(query), PAGE_SIZE).get_page(1)
    return len(list(page.object_list))


@scenario("family_search", "Family search: the selector and the htmx search page")
def run(ctx: BenchContext) -> list[Row]:
    from classbook.core.tenancy import activate_account

    with activate_account(ctx.account):
        queries = typical_queries(ctx.seed)
    rows: dict[str, Row] = {}
    totals = {
        "selector": Row(scenario="selector: all queries"),
        "page": Row(scenario="page (htmx): all queries"),
    }

    def record(layer: str, name: str, sample: Row) -> None:
        for target in (rows.setdefault(name, Row(scenario=name)), totals[layer]):
            target.samples_ms += sample.samples_ms
            target.queries += sample.queries

    url = SEARCH_URL.format(slug=ctx.account.slug)
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "family-results"}
    with activate_account(ctx.account):
        for kind, query in queries:
            _selector_page(query)  # warm-up
            for _ in range(ctx.repeat):
                sample = Row(scenario="")
                with measure(sample):
                    _selector_page(query)
                record("selector", f"selector: {kind}", sample)
    for kind, query in queries:
        ctx.client.get(url, {"q": query}, **headers)  # warm-up
        for _ in range(ctx.repeat):
            sample = Row(scenario="")
            with measure(sample):
                response = ctx.client.get(url, {"q": query}, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"search page answered {response.status_code} for {query!r}")
            record("page", f"page (htmx): {kind}", sample)
    full = Row(scenario="page (full, first page)")
    ctx.client.get(url)
    for _ in range(ctx.repeat):
        with measure(full):
            ctx.client.get(url)
    by_layer = {"selector": [], "page": []}
    for name, item in rows.items():
        by_layer["selector" if name.startswith("selector") else "page"].append(item)
    return [*by_layer["selector"], totals["selector"], *by_layer["page"], totals["page"], full]
