"""The family search text, and how a typed query is matched against it.

``Family.search_text`` holds, lower-cased and without accents, the family name followed
by every guardian's name, email and phone digits and every student's name. A query is
split into words; each word must occur somewhere in the text (SQL ``LIKE '%word%'`` on
one column of one table, no joins). A query that looks like a phone number is reduced to
its digits, so "(512) 555-0100", "512.555.0100" and "5550100" all find 5125550100.

Why not an index-backed full-text or trigram search: under PostgreSQL row-level security
a ``LIKE`` (not a leakproof operator) cannot be answered from a trigram index before the
row policy runs, so PostgreSQL scans the account's rows (via the account index) and
filters them. A per-account scan of one compact column is a few milliseconds at 10,000
families (see ``scripts/bench``), so we keep the simple, portable form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from classbook.families.models import phone_digits, search_normalize

_PHONE_QUERY = re.compile(r"^[\d\s()+.\-]+$")
_EDGE_PUNCTUATION = ',;:!?"()[]{}<>|'


def _words(value: str) -> str:
    return " ".join(search_normalize(value).split())


def build_search_text(
    *,
    family_name: str,
    guardians: Iterable[tuple[str, str, str, Iterable[str]]],
    students: Iterable[tuple[str, str]],
) -> str:
    """``guardians``: (first, last, email, phone digits); ``students``: (first, last)."""
    parts = [_words(family_name)]
    for first, last, email, digits in guardians:
        parts.append(_words(" ".join([first, last, email, *digits])))
    for first, last in students:
        parts.append(_words(f"{first} {last}"))
    return " | ".join(p for p in parts if p)


@dataclass(frozen=True)
class ParsedQuery:
    words: tuple[str, ...] = ()
    digits: str = ""  # set when the whole query is a phone number (or part of one)
    prefix_only: bool = False  # a single letter: family names starting with it

    @property
    def is_empty(self) -> bool:
        return not self.words and not self.digits

    def digit_variants(self) -> list[str]:
        """The digits, and without a leading 1 for a North American number typed as +1."""
        variants = [self.digits]
        if len(self.digits) == 11 and self.digits.startswith("1"):
            variants.append(self.digits[1:])
        return variants


def parse_query(raw: str) -> ParsedQuery:
    text = (raw or "").strip()[:200]
    if not text:
        return ParsedQuery()
    if _PHONE_QUERY.match(text):
        digits = phone_digits(text)
        if len(digits) >= 3:
            return ParsedQuery(digits=digits)
    words = tuple(
        word
        for word in (w.strip(_EDGE_PUNCTUATION) for w in search_normalize(text).split())
        if word
    )
    if not words:
        return ParsedQuery()
    if len(words) == 1 and len(words[0]) == 1:
        return ParsedQuery(words=words, prefix_only=True)
    return ParsedQuery(words=words)
