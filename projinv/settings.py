"""Django settings for projinv.

Everything that differs between machines comes from the environment:

- `DJANGO_DEBUG=1` for development (`make run` sets it); off by default, and then the settings
  are production-safe (`manage.py check --deploy` is clean).
- `DATABASE_URL` / `FINANCE_DATABASE_URL`: external PostgreSQL servers for the two systems.
  Without them an embedded PostgreSQL server starts under `var/` (see `projinv/embedded_db.py`).
- `REDIS_URL`: use Redis as the django-q2 broker instead of the ORM broker.
- `DJANGO_SECRET_KEY`, `DJANGO_ALLOWED_HOSTS`, `PROJINV_HTTPS`, `PROJINV_VAR_DIR`.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PROJINV_VAR_DIR", BASE_DIR / "var"))


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG", False)


def _secret_key() -> str:
    """Take the key from the environment, else from a per-machine file made once under var/."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_q",
    "django_tables2",
    "django_filters",
    "projinv",
    "dataverse",
    "finance",
    # The bridge comes last: its receivers must run after each side's own receivers of the
    # same signal (e.g. the billing actuals exist before the invoice header is queued).
    "projinv.dualwrite",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view says otherwise (only the login page does).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "projinv.urls"
WSGI_APPLICATION = "projinv.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Databases: one per system (design.md §3) -------------------------------------------------


def _database_settings() -> dict:
    default_url = os.environ.get("DATABASE_URL")
    if not default_url:
        from projinv.embedded_db import database_settings

        return database_settings(VAR_DIR)
    finance_url = os.environ.get("FINANCE_DATABASE_URL")
    default = dj_database_url.parse(default_url, conn_max_age=60, conn_health_checks=True)
    if finance_url:
        finance = dj_database_url.parse(finance_url, conn_max_age=60, conn_health_checks=True)
    else:  # same server, a second database named after the first
        finance = {**default, "NAME": f"{default['NAME']}_finance"}
    return {"default": default, "finance": finance}


DATABASES = _database_settings()
DATABASE_ROUTERS = ["projinv.routers.SystemRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background work: django-q2 ---------------------------------------------------------------

Q_CLUSTER = {
    "name": "projinv",
    "workers": int(os.environ.get("PROJINV_Q_WORKERS", "2")),
    # A task running longer than `timeout` is killed; an unacknowledged one is handed out again
    # after `retry`. timeout < retry, or the broker re-delivers tasks that are still running.
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "poll": 0.2,
    "label": _("Background tasks"),
}
if redis_url := os.environ.get("REDIS_URL"):
    Q_CLUSTER["redis"] = redis_url
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("Q_CLUSTER timeout must be shorter than retry (design.md §7).")

# The bridge's own delivery policy (projinv/dualwrite).
DUALWRITE = {
    "MAX_ATTEMPTS": 8,  # then the change goes to the error queue
    "BACKOFF_SECONDS": 5,  # first retry delay; doubles each attempt
    "CLAIM_SECONDS": 420,  # a claimed change not finished by then is taken again (> the task timeout)
    "CHUNK_ROWS": 1000,  # rows per outbox message for set-based maps
    "BATCH_ROWS": 20000,  # rows one delivery of a set-based map may carry, several changes together
    "LOG_RETENTION_DAYS": int(os.environ.get("PROJINV_LOG_RETENTION_DAYS", "90")),  # activity log
    "STUCK_MINUTES": 15,  # a pipeline stage not reached this long after the previous one is stuck
}

if DUALWRITE["CLAIM_SECONDS"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("DUALWRITE CLAIM_SECONDS must outlast the task timeout, or a running delivery is "
                               "handed out again.")

# --- Auth -------------------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("id", _("Indonesian")),
    ("sv", _("Swedish")),
    ("sr", _("Serbian (Cyrillic)")),
    ("eu", _("Basque")),
    ("tr", _("Turkish")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: served locally, the portal works with no internet --------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"  # collectstatic's target; WhiteNoise also serves from the finders
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True

# --- Production safety (manage.py check --deploy) ---------------------------------------------

HTTPS = env_flag("PROJINV_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
# Trust X-Forwarded-Proto only behind a proxy that sets it (else a client could claim HTTPS).
if env_flag("PROJINV_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Alerts are e-mailed: on the console in development, by SMTP (EMAIL_HOST...) in production.
EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend" if DEBUG
                               else "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "projinv@localhost")

DJANGO_TABLES2_TEMPLATE = "projinv/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "grid"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # django-q2 adds no handler of its own when the root has one: say INFO so the cluster tells it runs.
    "loggers": {"projinv": {"level": "INFO"}, "dataverse": {"level": "INFO"}, "finance": {"level": "INFO"},
                "django-q": {"level": "INFO"}},
}
