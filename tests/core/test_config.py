"""Settings come from the environment; a bad value stops start-up with one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from classbook.core.config import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)

CLASSBOOK = Path(sys.executable).with_name("classbook")


def run_check(tmp_path, **variables) -> subprocess.CompletedProcess:
    """``classbook check`` in a clean copy of the environment plus ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CLASSBOOK_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["CLASSBOOK_VAR_DIR"] = str(tmp_path / "var")
    env["CLASSBOOK_SECRET_KEY"] = "config-test-secret"
    for key, value in variables.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [str(CLASSBOOK), "check"], env=env, capture_output=True, text=True, timeout=60
    )


def assert_stopped_naming(result: subprocess.CompletedProcess, variable: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


# --- start-up, as a person runs it ----------------------------------------------------


def test_check_passes_with_a_good_environment(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr


def test_malformed_database_url_stops_start_up(tmp_path):
    result = run_check(tmp_path, CLASSBOOK_DATABASE_URL="postgres://app:s3cret@db:notaport/cb")
    line = assert_stopped_naming(result, "CLASSBOOK_DATABASE_URL")
    assert "s3cret" not in line


def test_unsupported_database_scheme_stops_start_up(tmp_path):
    result = run_check(tmp_path, CLASSBOOK_DATABASE_URL="mysql://app:s3cret@db/cb")
    line = assert_stopped_naming(result, "CLASSBOOK_DATABASE_URL")
    assert "mysql://" in line
    assert "s3cret" not in line


def test_bad_boolean_stops_start_up(tmp_path):
    result = run_check(tmp_path, CLASSBOOK_DEBUG="maybe")
    line = assert_stopped_naming(result, "CLASSBOOK_DEBUG")
    assert "maybe" in line


def test_missing_secret_key_with_debug_off_stops_start_up(tmp_path):
    result = run_check(tmp_path, CLASSBOOK_SECRET_KEY=None, CLASSBOOK_DEBUG=None)
    assert_stopped_naming(result, "CLASSBOOK_SECRET_KEY")


def test_missing_secret_key_is_allowed_in_debug(tmp_path):
    result = run_check(tmp_path, CLASSBOOK_SECRET_KEY=None, CLASSBOOK_DEBUG="1")
    assert result.returncode == 0, result.stderr


# --- env_* helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("CB_TEST_FLAG", raw)
    assert env_bool("CB_TEST_FLAG", not expected) is expected


def test_env_bool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("CB_TEST_FLAG", raising=False)
    assert env_bool("CB_TEST_FLAG", True) is True
    assert env_bool("CB_TEST_FLAG", False) is False


def test_env_bool_rejects_anything_else_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CB_TEST_FLAG", "2")
    with pytest.raises(ConfigError) as error:
        env_bool("CB_TEST_FLAG", False)
    assert error.value.variable == "CB_TEST_FLAG"
    assert str(error.value).startswith("CB_TEST_FLAG ")


def test_env_int_reads_whole_numbers_and_defaults(monkeypatch):
    monkeypatch.setenv("CB_TEST_INT", "42")
    assert env_int("CB_TEST_INT", 7) == 42
    monkeypatch.setenv("CB_TEST_INT", "  ")
    assert env_int("CB_TEST_INT", 7) == 7
    monkeypatch.delenv("CB_TEST_INT")
    assert env_int("CB_TEST_INT", 7) == 7


@pytest.mark.parametrize("raw", ["abc", "1.5", "-1"])
def test_env_int_rejects_non_numbers_and_negatives(monkeypatch, raw):
    monkeypatch.setenv("CB_TEST_INT", raw)
    with pytest.raises(ConfigError, match=r"^CB_TEST_INT "):
        env_int("CB_TEST_INT", 0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("CB_TEST_LIST", " a.example , ,b.example,")
    assert env_list("CB_TEST_LIST", ["x"]) == ["a.example", "b.example"]
    monkeypatch.delenv("CB_TEST_LIST")
    assert env_list("CB_TEST_LIST", ["x"]) == ["x"]


def test_env_str_default(monkeypatch):
    monkeypatch.delenv("CB_TEST_STR", raising=False)
    assert env_str("CB_TEST_STR", "fallback") == "fallback"
    monkeypatch.setenv("CB_TEST_STR", "set")
    assert env_str("CB_TEST_STR", "fallback") == "set"


# --- parse_database_url -------------------------------------------------------------------


def test_sqlite_url_gets_wal_and_immediate_transactions(tmp_path):
    config = parse_database_url("DB", f"sqlite:///{tmp_path}/cb.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/cb.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgres_url_is_parsed_with_an_integer_port(monkeypatch):
    monkeypatch.delenv("CLASSBOOK_DATABASE_CONN_MAX_AGE", raising=False)
    config = parse_database_url("DB", "postgres://app:pw@db.internal:6543/classbook")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"]) == ("app", "pw", "db.internal")
    assert config["PORT"] == 6543
    assert config["NAME"] == "classbook"
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_all_postgres_spellings_are_accepted(scheme):
    config = parse_database_url("DB", f"{scheme}://h/db")
    assert config["ENGINE"] == "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://u@h/db", "must start with"),
        ("", "must start with"),
        ("postgres://[::1/db", "not a valid URL"),
        ("postgres://u@h:port/db", "malformed"),
        ("postgres://u@h:5432/", "names no database"),
    ],
)
def test_bad_database_urls_name_the_variable(url, problem):
    with pytest.raises(ConfigError) as error:
        parse_database_url("CLASSBOOK_DATABASE_URL", url)
    assert error.value.variable == "CLASSBOOK_DATABASE_URL"
    assert problem in str(error.value)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///"])
def test_sqlite_url_without_a_file_is_refused(url):
    with pytest.raises(ConfigError, match="names no SQLite file"):
        parse_database_url("CLASSBOOK_DATABASE_URL", url)


def test_bad_scheme_message_does_not_echo_the_password():
    with pytest.raises(ConfigError) as error:
        parse_database_url("CLASSBOOK_DATABASE_URL", "postgres//app:s3cret@db/cb")
    assert "s3cret" not in str(error.value)
