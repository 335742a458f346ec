"""Classbook settings: read from environment variables only, production-safe by default.

Every variable is documented in README.md ("Configuration"). A bad value stops start-up
with one line naming the variable (see ``classbook.core.config``).
"""

from datetime import timedelta
from pathlib import Path

from classbook.core.config import (
    ConfigError,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(env_str("CLASSBOOK_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("CLASSBOOK_DEBUG", False)

SECRET_KEY = env_str("CLASSBOOK_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError("CLASSBOOK_SECRET_KEY", "is required when CLASSBOOK_DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-CLASSBOOK_DEBUG"

ALLOWED_HOSTS = env_list("CLASSBOOK_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CLASSBOOK_CSRF_TRUSTED_ORIGINS", [])

# --- database -------------------------------------------------------------------------
# The app connects with CLASSBOOK_DATABASE_URL. On PostgreSQL that role must not own the
# tables (row-level security binds it); migrations and test-database set-up run as the
# owner role from CLASSBOOK_DATABASE_OWNER_URL (see classbook.core.dbroles).
_default_sqlite = f"sqlite:///{VAR_DIR / 'classbook.sqlite3'}"
DATABASES = {
    "default": parse_database_url(
        "CLASSBOOK_DATABASE_URL", env_str("CLASSBOOK_DATABASE_URL", _default_sqlite)
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
_owner_url = env_str("CLASSBOOK_DATABASE_OWNER_URL", "")
CLASSBOOK_DATABASE_OWNER = (
    parse_database_url("CLASSBOOK_DATABASE_OWNER_URL", _owner_url) if _owner_url else None
)
# The role named in CLASSBOOK_DATABASE_URL is granted table rights after migrate.
CLASSBOOK_DATABASE_APP_ROLE = DATABASES["default"].get("USER") if CLASSBOOK_DATABASE_OWNER else None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- applications ---------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "classbook.core",
    "classbook.accounts",
    "classbook.audit",
    "classbook.staff",
    "classbook.catalog",
    "classbook.families",
    "classbook.ledger",
    "classbook.enrollment",
    "classbook.billing",
    "classbook.payments",
    "classbook.office",
    "classbook.portal",
    "classbook.platform",
    "classbook.demo",
]

MIDDLEWARE = [
    "classbook.core.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "classbook.core.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "classbook.urls"
WSGI_APPLICATION = "classbook.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "classbook.core.context_processors.tenancy",
                "classbook.office.chrome.office_chrome",
            ],
            "builtins": ["classbook.core.templatetags.classbook"],
        },
    }
]

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out log-ins first
    "classbook.accounts.auth.AccountUserBackend",
]
# Lock a login (per account, username and address) after repeated failures.
AXES_FAILURE_LIMIT = env_int("CLASSBOOK_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CLASSBOOK_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "classbook.staff.security.axes_username"
AXES_LOCKOUT_CALLABLE = "classbook.staff.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600  # invitation and reset links
PASSWORD_HASHERS = [
    "classbook.accounts.hashers.ClassbookArgon2Hasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Usernames are unique per account, not globally; AccountUserBackend handles that.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "classbook.staff.passwords.NotReusedValidator"},
]
SESSION_COOKIE_AGE = env_int("CLASSBOOK_SESSION_IDLE_SECONDS", 8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # the cookie age is an inactivity timeout

# --- security -------------------------------------------------------------------------
_secure = env_bool("CLASSBOOK_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("CLASSBOOK_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("CLASSBOOK_HSTS_SECONDS", 0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("CLASSBOOK_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------
# Bootstrap comes from npm at set-up time (package-lock.json), htmx from django-htmx.
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    ("vendor/bootstrap", PROJECT_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", PROJECT_DIR / "node_modules" / "bootstrap-icons" / "font"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- tasks ----------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
CLASSBOOK_HOUSEKEEPING_SECONDS = env_int("CLASSBOOK_HOUSEKEEPING_SECONDS", 60)
# /healthz reports the worker unhealthy when its heartbeat is older than this.
CLASSBOOK_WORKER_STALE_SECONDS = env_int(
    "CLASSBOOK_WORKER_STALE_SECONDS", 3 * CLASSBOOK_HOUSEKEEPING_SECONDS
)

# --- email ----------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "CLASSBOOK_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = env_str("CLASSBOOK_FROM_EMAIL", "Classbook <no-reply@localhost>")

# --- payments -------------------------------------------------------------------------
# localstripe's address in the demo and tests; new accounts' gateway settings point there.
CLASSBOOK_GATEWAY_SANDBOX_URL = env_str("CLASSBOOK_GATEWAY_SANDBOX_URL", "")
# Encrypts gateway keys at rest; defaults to a key derived from SECRET_KEY.
CLASSBOOK_ENCRYPTION_KEY = env_str("CLASSBOOK_ENCRYPTION_KEY", "")

# --- logging: one JSON line per request on stdout -------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "classbook.core.logging.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": env_str("CLASSBOOK_LOG_LEVEL", "INFO")},
    "loggers": {
        # The request line replaces Django's own request/server logging.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
