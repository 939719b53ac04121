"""Settings, read from the environment (django-environ).

With no environment at all the project runs embedded: SQLite in the project folder, Celery
tasks run eagerly, files under ./media. Production sets DATABASE_URL, CELERY_BROKER_URL,
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DJANGO_DEBUG=false (see README.md).
"""

import hashlib
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# No production secret default: without DJANGO_SECRET_KEY only DEBUG mode starts.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "insecure-embedded-default-only-for-local-runs-" + "x" * 20
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin.SuperuserAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_filters",
    "simple_history",
    "spreadsheets",
    "organizations",
    "notifications",
    "checklists",
    "supervision",
    "reviews",
    "scoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.RolePathsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that its pages know the user and the language (see its docstring).
    "config.middleware.ErrorPagesMiddleware",
]
# In DEBUG mode (the demo), errors are still shown as the project's Chinese pages unless a
# developer asks for Django's technical ones.
TECHNICAL_ERROR_PAGES = env.bool("DJANGO_TECHNICAL_ERROR_PAGES", default=False)

if not DEBUG:
    # Static files from the application server itself (after collectstatic); in DEBUG,
    # runserver's staticfiles handler serves them from the source folders.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.navigation.navigation",
            ],
            # {% url %} with ids from a reversed pattern (config/links.py), in every template.
            "builtins": ["config.links"],
        },
    },
]
# Django's form renderer with the inputs and selects written out in Python (config/renderers.py).
FORM_RENDERER = "config.renderers.FormRenderer"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers (runserver threads, an in-process worker, phones voting at once) wait
    # instead of failing: every transaction takes the write lock when it begins (a read that
    # later writes could not upgrade its lock while another writer waits: "database is locked").
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "organizations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Wrong passwords are counted per account and per client (organizations/login_throttle.py);
# past either limit, logins are refused until the window from the first failure ends or an
# administrator unlocks the account. The client limit is higher: an office shares one address.
AUTHENTICATION_BACKENDS = ["organizations.login_throttle.ThrottledModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_CLIENT = env.int("LOGIN_FAILURES_PER_CLIENT", default=50)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
# Behind a reverse proxy every request comes from the proxy's address: name the header the proxy
# sets to the client's own address (nginx: proxy_set_header X-Real-IP $remote_addr; then
# CLIENT_ADDRESS_HEADER=HTTP_X_REAL_IP). Never a header the client could set itself.
CLIENT_ADDRESS_HEADER = env("CLIENT_ADDRESS_HEADER", default="REMOTE_ADDR")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Our subclass: Django has no Chinese for its 5.2 message.
    {"NAME": "organizations.passwords.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The interface is Chinese; English works too (DESIGN.md section 7). The language follows the
# user's own choice (a cookie), not the browser's Accept-Language, so the default is zh-hans.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Celery: with no broker configured, tasks run eagerly in the calling process.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or "cache+memory://")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A job survives the loss of its worker (issue 13). A message is acknowledged only once its task
# has finished (acks late), so a worker killed mid-job leaves it to be delivered again; when only
# the pool process running it dies, the worker gives it back at once (reject on worker lost).
# Each process reserves one message at a time, so a long job holds no other behind it. Every task
# has a soft time limit (an exception it can clean up after) and a hard one (its process is
# killed); the spreadsheet tasks set shorter ones of their own. Redis delivers an unacknowledged
# message again after the visibility timeout, which must outlast the longest hard limit, or a job
# still running would be started a second time. Tasks are safe to run twice (STYLE.md 5).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=55 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=60 * 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60)}
# Every periodic job is declared here, with when and why.
CELERY_BEAT_SCHEDULE = {
    # Daily at 03:15: export files are kept EXPORT_RETENTION_DAYS days (DESIGN.md 7), then deleted.
    "exports-clean": {
        "task": "spreadsheets.tasks.exports_clean",
        "schedule": crontab(hour=3, minute=15),
    },
    # Every 10 minutes: an import check whose worker died is marked failed (it can be retried).
    "imports-fail-stalled": {
        "task": "spreadsheets.tasks.imports_fail_stalled",
        "schedule": crontab(minute="*/10"),
    },
    # Daily at 08:00: remind secretaries and clerks of work due within REMINDER_DAYS and overdue.
    "checklist-reminders": {
        "task": "checklists.tasks.reminders_send",
        "schedule": crontab(hour=8, minute=0),
    },
    # Daily at 07:30: problems due soon or overdue; missed extended deadlines → admonishments.
    "problem-deadlines": {
        "task": "supervision.tasks.deadlines_check",
        "schedule": crontab(hour=7, minute=30),
    },
    # Daily at 02:00: the progress counts recounted from the occurrences (any drift is logged).
    "progress-counts-recount": {
        "task": "checklists.tasks.progress_counts_recount",
        "schedule": crontab(hour=2, minute=0),
    },
    # The 1st of each month at 01:00: keep last month's progress per organization (DESIGN.md 3).
    "progress-snapshot": {
        "task": "checklists.tasks.progress_snapshot_take",
        "schedule": crontab(day_of_month=1, hour=1, minute=0),
    },
    # Daily at 03:30: expired login sessions would otherwise pile up in the database.
    "sessions-clear-expired": {
        "task": "organizations.tasks.sessions_clear_expired",
        "schedule": crontab(hour=3, minute=30),
    },
}

# Excel import limits and export retention (DESIGN.md 7 defaults).
SPREADSHEET_MAX_FILE_BYTES = env.int("SPREADSHEET_MAX_FILE_BYTES", default=20 * 1024 * 1024)
SPREADSHEET_MAX_ROWS = env.int("SPREADSHEET_MAX_ROWS", default=200_000)
SPREADSHEET_MAX_COLUMNS = env.int("SPREADSHEET_MAX_COLUMNS", default=50)
SPREADSHEET_MAX_UNCOMPRESSED_BYTES = env.int("SPREADSHEET_MAX_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024)
# Shared strings of one workbook (a few hundred KB zipped can declare millions), their total
# length in characters, cell formats, and the time one check of a file may take (seconds).
SPREADSHEET_MAX_STRINGS = env.int("SPREADSHEET_MAX_STRINGS", default=1_000_000)
SPREADSHEET_MAX_STRING_CHARS = env.int("SPREADSHEET_MAX_STRING_CHARS", default=50_000_000)
SPREADSHEET_MAX_STYLES = env.int("SPREADSHEET_MAX_STYLES", default=64_000)
SPREADSHEET_CHECK_SECONDS = env.int("SPREADSHEET_CHECK_SECONDS", default=300)
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=7)
EXPORT_SECONDS = env.int("EXPORT_SECONDS", default=1800)  # the time limit of one export job
# Evidence files (台账 attachments, DESIGN.md 3 defaults) and reminders.
EVIDENCE_MAX_FILE_BYTES = env.int("EVIDENCE_MAX_FILE_BYTES", default=20 * 1024 * 1024)
EVIDENCE_MAX_FILES = env.int("EVIDENCE_MAX_FILES", default=20)
REMINDER_DAYS = env.int("REMINDER_DAYS", default=7)  # yellow mark and "due soon" reminders
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A request declaring more than UPLOAD_MAX_REQUEST_BYTES keeps none of its files, and past
# UPLOAD_MAX_FILES files the rest are skipped: both end as form errors (config/uploads.py), so
# Django's own file count limit, a bare 400, is off. The reverse proxy's body limit should be a
# little above UPLOAD_MAX_REQUEST_BYTES (README, "Security").
FILE_UPLOAD_HANDLERS = [
    "config.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=100 * 1024 * 1024)
UPLOAD_MAX_FILES = env.int("UPLOAD_MAX_FILES", default=100)
DATA_UPLOAD_MAX_NUMBER_FILES = None

SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=60 * 60 * 12)

# Ballot codes are stored as HMAC-SHA256 under this key (DESIGN.md 6). Changing it voids every
# code printed so far. By default derived from the secret key, so one secret is enough.
BALLOT_CODE_KEY = (
    env("BALLOT_CODE_KEY", default="") or hashlib.sha256(f"ballot-codes:{SECRET_KEY}".encode()).hexdigest()
)
# Wrong ballot codes from one client (keyed hash of its address, kept only in the cache for the
# window) before it must wait: slows down guessing without logging who voted.
BALLOT_CODE_FAILURES = env.int("BALLOT_CODE_FAILURES", default=5)
BALLOT_CODE_WINDOW_SECONDS = env.int("BALLOT_CODE_WINDOW_SECONDS", default=600)

# A shared cache (Redis) in production, so that throttles hold across gunicorn workers.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The ballot path leaves no trace of when a ballot was cast (DESIGN.md 6), in runserver's
    # request log either.
    "filters": {"no_ballot_path": {"()": "config.logging.BallotPathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["no_ballot_path"]}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    # runserver's request log, through the filtered handler (Django's own has no filter).
    "loggers": {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

if not DEBUG:
    # Behind a TLS-terminating proxy (nginx, a cloud load balancer).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
