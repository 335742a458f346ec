"""The two PostgreSQL roles: the owner (migrations) and the app (everything else).

``owner_connection`` points a connection at the owner's credentials for the duration of a
block (``migrate``, ``flush``, test-database set-up) and back afterwards. Without
CLASSBOOK_DATABASE_OWNER_URL (SQLite, or a single-role set-up) it changes nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def use_credentials(alias: str, source: dict) -> dict:
    """Swap a closed-over connection's credentials; returns the previous ones."""
    connection = connections[alias]
    if connection.in_atomic_block:
        raise RuntimeError("cannot change database role inside a transaction")
    previous = {key: connection.settings_dict.get(key) for key in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: source.get(key) for key in _CREDENTIALS})
    return previous


@contextmanager
def owner_connection(alias: str = "default") -> Iterator[None]:
    owner = settings.CLASSBOOK_DATABASE_OWNER
    if not owner or alias != "default":
        yield
        return
    previous = use_credentials(alias, owner)
    try:
        yield
    finally:
        use_credentials(alias, previous)
