# ruff: noqa: F405
"""Test settings: the real settings, with test-only environment defaults."""

import os

os.environ.setdefault("CLASSBOOK_SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("CLASSBOOK_SSL_REDIRECT", "0")
os.environ.setdefault("CLASSBOOK_SECURE_COOKIES", "0")

from classbook.settings import *  # noqa: F403

# Argon2 on every test log-in would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# A test database of its own per pytest process, so parallel runs on one PostgreSQL
# server (developers, helpers, CI) never drop each other's database.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}",
    }
