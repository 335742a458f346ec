"""Reading settings from the environment, with errors that name the variable."""

import os
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A bad environment variable; ``str()`` is the one line shown at start-up."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        super().__init__(f"{variable} {problem}")


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"must be one of 1/0, true/false, yes/no, on/off (got {raw!r})")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number (got {raw!r})") from None
    if value < 0:
        raise ConfigError(name, f"must not be negative (got {raw!r})")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}


def parse_database_url(variable: str, url: str) -> dict:
    """Parse a database URL into Django's DATABASES entry, or raise ConfigError."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:
        raise ConfigError(variable, f"is not a valid URL ({exc})") from None
    if scheme not in _SCHEMES:
        # Never echo the URL itself: it may carry a password.
        raise ConfigError(
            variable,
            "must start with sqlite:/// or postgres:// "
            f"(got {scheme + '://' if scheme and '://' in url else 'no scheme'})",
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:  # dj-database-url raises several kinds for bad URLs
        raise ConfigError(variable, f"is malformed ({exc})") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config.get("NAME") in (None, "", ":memory:"):
            raise ConfigError(variable, "names no SQLite file (use sqlite:////absolute/path)")
        config["OPTIONS"] = {
            # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock
            # at BEGIN so two writers queue instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        if not config.get("NAME"):
            raise ConfigError(variable, "names no database (postgres://user@host:5432/NAME)")
        try:
            config["PORT"] = int(config["PORT"]) if config.get("PORT") else ""
        except ValueError:
            raise ConfigError(variable, f"has a bad port ({config['PORT']!r})") from None
        config["CONN_MAX_AGE"] = env_int("CLASSBOOK_DATABASE_CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
    return config
