"""Settings for the Family Pooling Portal.

One file, driven by environment variables (12-factor). Helpers fail loudly on a bad value
so that a typo in production configuration stops the process instead of running insecurely.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    """Read a 0/1 style boolean; anything else is a configuration error."""
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", "0")
TESTING = envbool("PORTAL_TESTING", "0")

_DEV_SECRET = "dev-only-insecure-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = _DEV_SECRET
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is not 1")
elif not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long")

# Keys for sensitive personal data (ID and phone numbers). Separate keys may be given; by
# default they are derived from the secret key so that a fresh install works.
FIELD_ENCRYPTION_KEY = os.environ.get("PORTAL_FIELD_ENCRYPTION_KEY", "")
LOOKUP_HASH_KEY = os.environ.get("PORTAL_LOOKUP_HASH_KEY", "")
if FIELD_ENCRYPTION_KEY:
    import base64
    import binascii

    try:
        _key_ok = len(base64.urlsafe_b64decode(FIELD_ENCRYPTION_KEY.encode())) == 32
    except (binascii.Error, ValueError):
        _key_ok = False
    if not _key_ok:
        raise ImproperlyConfigured(
            "PORTAL_FIELD_ENCRYPTION_KEY must be a Fernet key (32 url-safe base64-encoded bytes): make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
if LOOKUP_HASH_KEY and len(LOOKUP_HASH_KEY) < 32:
    raise ImproperlyConfigured("PORTAL_LOOKUP_HASH_KEY must be at least 32 characters long")

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and not TESTING and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS is required when DJANGO_DEBUG is not 1")

HTTPS = envbool("DJANGO_HTTPS", "0" if (DEBUG or TESTING) else "1")
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS if "*" not in host]
# A load balancer probes over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"  # the portal's own friendly page, in the layout
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # Django's widget templates, found through TEMPLATES (see FORM_RENDERER)
    "crispy_forms",
    "crispy_bootstrap5",
    "accounts.axes_config.AxesConfig",  # django-axes, named for staff
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "pooling",
    "payments",
    "statements",
    "portal",
]

MIDDLEWARE = [
    "portal.observability.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.second_factor.StaffSecondFactorMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "portal.middleware.RejectUnstorableInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

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
                "portal.context_processors.portal",
                "portal.pagecache.csrf_placeholder",
            ],
            "builtins": ["portal.templatetags.portal_tags"],
        },
    },
]

# Widgets render through TEMPLATES, so templates/ can override one of Django's widget templates
# (templates/auth/widgets/read_only_password_hash.html: valid HTML for the admin's password field).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# Database: DATABASE_URL, or a SQLite file under var/ for local runs.
_default_db = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _default_db,
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The statements of a payment as server-side prepared statements (portal/db.py).
DATABASE_PREPARED_STATEMENTS = envbool("DATABASE_PREPARED_STATEMENTS", "1")
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.IdentifierBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:home"

# Sessions end after a period of inactivity; pages warn before and offer to extend.
SESSION_COOKIE_AGE = envint("PORTAL_SESSION_SECONDS", 30 * 60)
# Rendered dashboards and spending pages kept per process while what they show is unchanged
# (portal/pagecache.py); 0 switches that off.
PAGE_CACHE_ENTRIES = envint("PORTAL_PAGE_CACHE_ENTRIES", 200)
SESSION_SAVE_EVERY_REQUEST = True
# Django's database sessions, each read and write one plain statement (portal/sessions.py).
SESSION_ENGINE = "portal.sessions"
SESSION_WARNING_SECONDS = 5 * 60

# Brute-force lockout (django-axes): five failures for one login name from one address
# locks that pair for 15 minutes.
AXES_FAILURE_LIMIT = envint("PORTAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.backends.lockout_username"
AXES_VERBOSE = False

# Staff (bureau and counter) confirm every log-in with a TOTP code (django-otp) before /admin/
# and /counter/ open; the issuer is the name their authenticator app shows.
OTP_TOTP_ISSUER = "Family Pooling Portal"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Content-Security-Policy without unsafe-inline: every script and style is a static file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Celery: Redis in production; with no REDIS_URL an embedded filesystem broker under var/
# so that `make run` needs nothing but Python and tasks still run in a separate worker.
#
# Nothing lost, nothing doubled (tests/statements/test_celery_settings.py asserts these hold
# together): a task is acknowledged only after it has finished (acks_late), and when its worker
# dies the message goes back to the queue (reject_on_worker_lost; with Redis, an unacknowledged
# message becomes visible again after the visibility timeout). The visibility timeout must
# therefore exceed the hard time limit, or a task still running would be handed to a second
# worker. Each worker process reserves one message at a time (prefetch 1), so a crash strands
# at most one task per process. Tasks are idempotent by unique constraints, so a redelivery
# never doubles an effect.
REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
CELERY_TASK_TIME_LIMIT = envint("PORTAL_CELERY_TIME_LIMIT", 900)
CELERY_TASK_SOFT_TIME_LIMIT = envint("PORTAL_CELERY_SOFT_TIME_LIMIT", max(1, CELERY_TASK_TIME_LIMIT * 2 // 3))
CELERY_VISIBILITY_TIMEOUT = envint("PORTAL_CELERY_VISIBILITY_TIMEOUT", 3600)
if not 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "Celery limits must satisfy 0 < PORTAL_CELERY_SOFT_TIME_LIMIT < PORTAL_CELERY_TIME_LIMIT"
        " < PORTAL_CELERY_VISIBILITY_TIMEOUT"
    )
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Fail fast while Redis is down: the portal must keep answering (the outbox relay
        # delivers notifications later), so a publish may not hang on a dead socket.
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        "retry_on_timeout": True,
        "health_check_interval": 25,
        # Look for messages of dead workers (unacknowledged beyond the visibility timeout)
        # every few seconds rather than kombu's default of about 100 s.
        "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT // 4)),
        "unacked_restore_throttle": 1,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
# The worker keeps the portal's logging (one line per task with its request id, portal.observability).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# When the broker connection drops, tasks already running are cancelled rather than finished
# unacknowledged (their messages are redelivered anyway; tasks are idempotent).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Two queues: "celery" for time-sensitive work (codes, notifications) and "statements" for the
# monthly bulk run, so 100,000 statements never delay a sign-up code. A worker started without
# -Q consumes both; production may run dedicated statement workers with -Q statements.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {"celery": {}, "statements": {}}
CELERY_TASK_ROUTES = {
    "statements.tasks.generate_statement_chunk_task": {"queue": "statements"},
    "statements.tasks.start_statement_run_task": {"queue": "statements"},
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = envbool("PORTAL_CELERY_EAGER", "0")
# Notifications are handed to the broker by a background thread of each process, gathered for
# this long (accounts.notifications); off in tests, which deliver on the committing thread.
NOTIFICATION_COURIER = envbool("PORTAL_NOTIFICATION_COURIER", "0" if TESTING else "1")
NOTIFICATION_GATHER_SECONDS = envint("PORTAL_NOTIFICATION_GATHER_MS", 20) / 1000
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}  # filled in by portal/celery.py

# Notification channels. Senders are dotted paths to classes with a send() method.
SMS_SENDER = os.environ.get("PORTAL_SMS_SENDER", "accounts.channels.ConsoleSender")
EMAIL_SENDER = os.environ.get("PORTAL_EMAIL_SENDER", "accounts.channels.DjangoEmailSender")
SMS_GATEWAY_URL = os.environ.get("PORTAL_SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("PORTAL_SMS_GATEWAY_TOKEN", "")
EMAIL_BACKEND = os.environ.get("PORTAL_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("PORTAL_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("PORTAL_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("PORTAL_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PORTAL_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = envbool("PORTAL_EMAIL_TLS", "0")
DEFAULT_FROM_EMAIL = os.environ.get("PORTAL_EMAIL_FROM", "noreply@family-pooling.example")

# One-time codes for sign-up and password reset.
OTP_VALID_SECONDS = 10 * 60
OTP_MAX_ATTEMPTS = 5
OTP_RESEND_SECONDS = 60
# Codes and notices texted per person and per phone number in 24 hours.
OTP_PER_DAY = envint("PORTAL_CODES_PER_DAY", 5)
# Sign-up and password-reset answers take at least this long whatever the case (no timing oracle).
ENUMERATION_FLOOR_SECONDS = envint("PORTAL_ENUMERATION_FLOOR_MS", 300) / 1000
# How long a "confirm with your password" step stays valid (paying a premium, changing channels).
REAUTH_SECONDS = envint("PORTAL_REAUTH_SECONDS", 5 * 60)

# Cache: Redis in production (rate-limit counters shared by every process), local memory otherwise.
if REDIS_URL and not TESTING:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "portal"}}
# (django_ratelimit is used as a library, not an installed app: its system checks would call Django's
# own RedisCache unsupported and local memory unshared, which is the intent without Redis.)
RATELIMIT_USE_CACHE = "default"
# If the cache (Redis) is down, let requests through rather than refuse everyone.
RATELIMIT_FAIL_OPEN = True
# Rates ("count/period", period s, m, h or d); an empty value switches a limit off. Only POSTs,
# code sending and API calls count, never plain page views.
RATE_LIMITS = {
    "code_per_id": f"{OTP_PER_DAY}/d" if OTP_PER_DAY > 0 else "",
    "code_per_ip": os.environ.get("PORTAL_RATE_CODES_PER_IP", "30/h"),
    "login_per_ip": os.environ.get("PORTAL_RATE_LOGIN_PER_IP", "60/m"),
    "checker_per_ip": os.environ.get("PORTAL_RATE_CHECKER_PER_IP", "60/m"),
    "api_per_institution": os.environ.get("PORTAL_RATE_API_PER_INSTITUTION", "6000/m"),
    "reauth_per_user": os.environ.get("PORTAL_RATE_REAUTH_PER_USER", "10/h"),
}

PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# The bureau named on statements (HTML and PDF). Empty: the medical security bureau of the
# holder's region, with the address of that region's first office that has one.
PORTAL_BUREAU_NAME = os.environ.get("PORTAL_BUREAU_NAME", "")
PORTAL_BUREAU_ADDRESS = os.environ.get("PORTAL_BUREAU_ADDRESS", "")

# One line per request and per task (portal.observability), each with its request id and the
# user's role; never a personal number. PORTAL_REQUEST_LOG=0 silences the per-request lines.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.observability.RequestIdFilter"}},
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "WARNING")},
    "loggers": {
        "portal.request": {"level": "INFO" if envbool("PORTAL_REQUEST_LOG", "0" if TESTING else "1") else "WARNING"},
        "portal.task": {"level": "INFO" if envbool("PORTAL_REQUEST_LOG", "0" if TESTING else "1") else "WARNING"},
        # Django logs each 4xx/5xx with the full path (which may carry a token): our line replaces it.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
