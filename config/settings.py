"""Archlens settings: one module, configured through environment variables.

With nothing set, Archlens runs on SQLite under var/ with a filesystem Celery broker, so a
laptop needs no other server. DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis;
CACHE_URL to a cache in Redis and ARCHLENS_S3_BUCKET to files in an S3-compatible bucket, which
several web and worker nodes share.
"""

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ARCHLENS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def read_secret_key(debug: bool) -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if path := os.environ.get("SECRET_KEY_FILE"):
        return Path(path).read_text().strip()
    if not debug:
        raise ImproperlyConfigured("DEBUG is off: set SECRET_KEY or SECRET_KEY_FILE.")
    # A development secret that survives restarts, so logins survive `make run` restarts.
    dev_key = VAR_DIR / "dev-secret-key"
    if not dev_key.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        dev_key.write_text(secrets.token_urlsafe(50))
        dev_key.chmod(0o600)
    return dev_key.read_text().strip()


def s3_storage(environ: Mapping[str, str]) -> dict | None:
    """The storage of generated files in an S3-compatible bucket, or None without a bucket.

    The names are Archlens's own (ARCHLENS_S3_*), not boto3's AWS_*, so that credentials meant
    for something else on the host never decide where reports go. Without keys, boto3 finds
    credentials as it always does (an instance or task role, for example).
    """
    bucket = environ.get("ARCHLENS_S3_BUCKET", "").strip()
    if not bucket:
        return None
    return {
        "BACKEND": "config.file_storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ.get("ARCHLENS_S3_ENDPOINT_URL") or None,
            "region_name": environ.get("ARCHLENS_S3_REGION") or None,
            "access_key": environ.get("ARCHLENS_S3_ACCESS_KEY_ID") or None,
            "secret_key": environ.get("ARCHLENS_S3_SECRET_ACCESS_KEY") or None,
            # Folder of the bucket the files go under, for a bucket shared with others.
            "location": environ.get("ARCHLENS_S3_PREFIX", "").strip("/"),
            # "path" for servers without bucket names in host names; boto3 picks otherwise.
            "addressing_style": environ.get("ARCHLENS_S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            # Nothing in the bucket is public: reports are downloaded through the app, after
            # its access checks. Any URL made for an object is signed and expires.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            # A second file of the same name gets a name of its own, as on a local folder.
            "file_overwrite": False,
        },
    }


def cache_settings(environ: Mapping[str, str]) -> dict:
    """CACHES: Redis at CACHE_URL, shared by every web process and node; else process memory.

    What the cache holds can always be computed again (immutable lens data, shared renders,
    the API's request counts), so a Redis that stops answering turns into misses instead of
    failing requests (config/cache.py).
    """
    url = environ.get("CACHE_URL", "").strip()
    if not url:
        # Room for the dashboard's slices (reviews.dashboard: two entries per 500 workloads a
        # manager sees), beyond the 300 entries Django keeps by default.
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "OPTIONS": {"MAX_ENTRIES": 10_000},
            }
        }
    scheme = url.partition("://")[0]
    if scheme not in {"redis", "rediss", "unix"}:
        # Not the URL itself: it may hold a password.
        raise ImproperlyConfigured(
            f"CACHE_URL must be a redis://, rediss:// or unix:// URL, not {scheme}://…"
        )
    return {
        "default": {
            "BACKEND": "config.cache.SharedRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": environ.get("CACHE_KEY_PREFIX", "archlens"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def session_engine(environ: Mapping[str, str]) -> str:
    """Sessions read from the cache and written through to the database, when the cache is
    shared (Redis at CACHE_URL): every request reads its session, few change it.

    A cache in process memory is not shared by the web processes, and one of them would go on
    honouring a session that another one ended (sign out, "sign out everywhere"), so without
    CACHE_URL sessions stay in the database alone.
    """
    if environ.get("CACHE_URL", "").strip():
        return "django.contrib.sessions.backends.cached_db"
    return "django.contrib.sessions.backends.db"


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = read_secret_key(DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "lenses",
    "reviews",
    "review_templates",
    "people",
    "api",
    "sso",
    "profiles",
]

MIDDLEWARE = [
    # First, so that every response (redirects and errors too) gets an id and a log line.
    "config.middleware.RequestIdMiddleware",
    "config.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.middleware.HtmxLoginMiddleware",
    # Last: it turns a login refused by the lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Production serves its own static files; runserver does that while debugging.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'archlens.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The lookups of every tick and poll are prepared on their first run on a connection
    # (reviews.rows.planned_cursor); None for a connection pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        0 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several workshop participants write at once: wait for the lock instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout backend goes first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# -- Single sign-on with OpenID Connect (sso/, README "Single sign-on") ---------------------------
# Nothing happens without OIDC_ISSUER. The provider's endpoints come from its discovery document
# at the first sign-in (sso/discovery.py), so start-up needs no network.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "").strip()
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "").strip() or "single sign-on"
OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "").strip() or "groups"
OIDC_RP_SCOPES = os.environ.get("OIDC_SCOPES", "").strip() or "openid email profile"
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_SIGN_ALGO", "").strip() or "RS256"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 5)
OIDC_CLOCK_SKEW_SECONDS = env_int("OIDC_CLOCK_SKEW_SECONDS", 60)
OIDC_AUTHENTICATION_CALLBACK_URL = "sso:callback"
# PASSWORD_LOGIN=0 hides the password form; /accounts/login/?password=1 still shows it, for the
# administrator when the provider is down.
PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", True)
if OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("sso.oidc.OIDCBackend")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Generated files (reports, logos) go to a bucket when one is configured, so that every web and
# worker node sees the same files (README, "Running at scale"), else to MEDIA_ROOT.
STORAGES = {
    "default": s3_storage(os.environ) or {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

CACHES = cache_settings(os.environ)

# Lens files are at most 500 KB (the AWS quota); leave room for the multipart envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
LENS_MAX_BYTES = 500 * 1024

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery-processed"),
        "store_processed": False,
    }
    _queue_dir.mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# -- Report workers (reviews.tasks, reviews.reports) --------------------------------------------
# A report build is asked to stop after REPORT_SOFT_TIME_LIMIT seconds (it fails with a message)
# and killed after REPORT_TIME_LIMIT. While it runs, its worker writes a heartbeat every
# REPORT_HEARTBEAT_SECONDS; a RUNNING report without one for REPORT_STALE_SECONDS has lost its
# worker: it is queued again (fewer than 3 attempts) or failed. A QUEUED report that no worker
# has taken REPORT_QUEUED_STALE_SECONDS after it was sent, while the workers had time for it,
# was lost by the broker: it is sent again, and counts as an attempt.
REPORT_SOFT_TIME_LIMIT = env_int("REPORT_SOFT_TIME_LIMIT", 240)
REPORT_TIME_LIMIT = env_int("REPORT_TIME_LIMIT", 300)
REPORT_HEARTBEAT_SECONDS = env_int("REPORT_HEARTBEAT_SECONDS", 10)
REPORT_STALE_SECONDS = env_int("REPORT_STALE_SECONDS", 60)
REPORT_QUEUED_STALE_SECONDS = env_int("REPORT_QUEUED_STALE_SECONDS", 120)
# The queue report builds go to; the default queue, so `celery -A config worker` takes them.
REPORT_QUEUE = os.environ.get("REPORT_QUEUE", "celery")
# Workers and beat wait this long to connect. Asking for a report bounds its send to the broker
# on its own, within two seconds (reviews.reports.services.report_enqueue).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The queue bindings too, or kombu keeps them in ./control of whichever directory the web
    # server or the worker was started from, and messages sent from another one are dropped.
    CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"] = str(VAR_DIR / "celery-control")
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
# WeasyPrint holds on to memory (fonts, images): recycle a worker process now and then.
CELERY_WORKER_MAX_TASKS_PER_CHILD = 100
# With `celery -A config beat`, reports whose worker died are recovered every minute; the
# report pages and every worker start do the same check.
CELERY_BEAT_SCHEDULE = {
    "reports-recover-stale": {"task": "reviews.reports_recover_stale", "schedule": 60.0},
}

# Security. Behind a TLS proxy set SECURE_PROXY_SSL_HEADER=1 (the proxy sets
# X-Forwarded-Proto: https) so that Django knows the request came in over HTTPS.
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SESSION_ENGINE = session_engine(os.environ)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Only the app's own scripts and styles, also while debugging so that violations show early:
# no inline <script>, no style="" attributes (templates use classes from archlens.css).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Mail: invitations and password resets. With no EMAIL_HOST nothing is sent (while debugging it
# is printed), the People page shows invitation links to pass on, and password reset is off.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL, not both.")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Archlens <archlens@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif DEBUG:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Password reset sends mail to whatever address is typed: at most this many per address, and
# this many in all, per hour.
PASSWORD_RESET_PER_ADDRESS = env_int("PASSWORD_RESET_PER_ADDRESS", 5)
PASSWORD_RESET_PER_HOUR = env_int("PASSWORD_RESET_PER_HOUR", 100)

# Login throttling: after AXES_FAILURE_LIMIT failed logins for one username from one address,
# that pair is locked for AXES_COOLOFF_MINUTES (each further failure starts the wait again).
# A username that fails AXES_USERNAME_FAILURE_LIMIT times from any addresses, and an address
# that fails AXES_IP_FAILURE_LIMIT times with any usernames, are locked the same way
# (config/login_throttle.py scales each count to its own limit).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
LOGIN_FAILURE_LIMITS = {
    ("username", "ip_address"): AXES_FAILURE_LIMIT,
    ("username",): env_int("AXES_USERNAME_FAILURE_LIMIT", 20),
    ("ip_address",): env_int("AXES_IP_FAILURE_LIMIT", 30),
}
AXES_LOCKOUT_PARAMETERS = [list(parameters) for parameters in LOGIN_FAILURE_LIMITS]
AXES_HANDLER = "config.login_throttle.ScaledLimitsHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.login_locked_out"
# Behind proxies every request comes from the proxy: read the client from X-Forwarded-For.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.middleware.client_ip"

# The AWS-compatible API under /aws/ (README, "Automating Archlens"): the region in the ARNs it
# gives out, and how many requests per second one API key may send.
API_REGION = os.environ.get("API_REGION", "us-east-1")
API_RATE_PER_SECOND = env_int("API_RATE_PER_SECOND", 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Failed logins and lockouts are warnings; axes' start-up banner and successes are noise.
    # WeasyPrint logs every layout step of every report page at INFO (reviews.reports).
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Every answer is logged once, as one line, by archlens.requests (config/middleware.py).
        # A 403 or 404 is expected: Django's own warning with a traceback would log it twice.
        # Server errors (5xx) keep their traceback.
        "django.request": {"level": "ERROR"},
    },
}
