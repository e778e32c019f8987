"""Settings shared by every environment. 12-factor: everything that differs between machines is an env var."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _
from django_celery_beat.tzcrontab import TzAwareCrontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "axes",
    "auditlog",
    "accounts",
    "points",
    "campaigns",
    "tasks",
    "lottery",
    "mall",
    "shipments",
    "outbox",
    "referrals",
    "levels",
    "partners",
    "reports",
]

# The Api* classes are Django's and auditlog's own middleware, passed over for bearer-authenticated API calls
# (config/api_middleware.py), which need no session, Django-level user, messages or audit actor.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # django-csp (a constant policy for bearer API calls); outside the rest, so responses they answer carry it too
    "config.api_middleware.ApiCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML and JSON gzip-compressed here, with Django's BREACH mitigation (README, "Compression"); below whitenoise,
    # which answers static files itself with the copies compressed at collectstatic.
    "django.middleware.gzip.GZipMiddleware",
    "config.api_middleware.ApiSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.middleware.RequestLimitsMiddleware",  # before anything reads the body (see the limits below)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",  # kept by name: Django's deploy check looks for it (security.W003)
    "config.api_middleware.ApiAuthenticationMiddleware",
    "config.api_middleware.ApiMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.api_middleware.ApiAuditlogMiddleware",
    "axes.middleware.AxesMiddleware",  # cheap, and axes checks for it by name (axes.W002)
    "config.api_middleware.ApiCycleBreakMiddleware",  # innermost: frees each DRF call's objects when it is done
]

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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: Postgres only (the ledger depends on its constraints and locking); psycopg 3 pool. ---
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/pointsmall"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions
DATABASES["default"]["CONN_MAX_AGE"] = 0  # required with the pool; the pool keeps connections
DATABASES["default"].setdefault("OPTIONS", {})
# With the pool, Django passes CONN_HEALTH_CHECKS on as psycopg_pool's `check=ConnectionPool.check_connection`: an
# idle connection is tested (an empty query) before it is handed out and replaced if the server dropped it meanwhile
# (a restart, a terminated backend, a network cut): a dead pooled connection costs a round trip, not a request;
# the first dead one makes the pool test all its idle connections at once (config/db_pool.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": env.int("DB_POOL_MIN", default=2),
    "max_size": env.int("DB_POOL_MAX", default=16),
    "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# A cache, not a dependency of pages (docs/architecture.md, "When Redis is down"): config.redis_cache fails fast
# (these socket timeouts; then no try for a second) and callers fall back to the database.
CACHES = {
    "default": {
        "BACKEND": "config.redis_cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_PREFIX", default="pm"),
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}
SESSION_ENGINE = "accounts.sessions"

# --- Auth ---
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # must be first: refuses locked-out credentials
    "accounts.backends.PhoneOrEmailBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
# Failed logins per account (whichever identifier, from any IP) before the account itself is locked for
# AXES_COOLOFF_MINUTES; axes' per account + IP limit (AXES_FAILURE_LIMIT) comes first (accounts/backends.py).
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)

# --- Client IP and rate limits (config/client_ip.py, config/ratelimit.py) ---
# Reverse proxies in front of the app that append to X-Forwarded-For; 0: the header is ignored (REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_REDIS_URL = REDIS_URL
# "<count>/<period>" (s, min, hour, day; "10/15min"), "off" to disable. Counted per client IP (login, register,
# token_refresh, partner_apply), per member (checkin, spin, order, code_reveal) or per partner API key (events,
# partner_sales).
RATE_LIMITS = {
    "login": env("RATE_LIMIT_LOGIN", default="30/min"),
    "register": env("RATE_LIMIT_REGISTER", default="20/hour"),
    "token_refresh": env("RATE_LIMIT_TOKEN_REFRESH", default="30/min"),
    "checkin": env("RATE_LIMIT_CHECKIN", default="20/min"),
    "spin": env("RATE_LIMIT_SPIN", default="60/min"),
    "order": env("RATE_LIMIT_ORDER", default="20/min"),  # for the mall's order endpoints (not built yet)
    "code_reveal": env("RATE_LIMIT_CODE_REVEAL", default="30/min"),  # for a code reveal endpoint (none yet)
    "events": env("RATE_LIMIT_EVENTS", default="600/min"),
    "partner_sales": env("RATE_LIMIT_PARTNER_SALES", default="120/min"),  # per key; up to 500 lines a request
    "partner_apply": env("RATE_LIMIT_PARTNER_APPLY", default="10/hour"),  # the public partner application form
}

# --- i18n / time ---
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"  # display default; storage is UTC
USE_I18N = True
USE_TZ = True

# --- Static / media ---
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Uploaded files (product pictures, campaign banners, invite posters) are served by Django when DEBUG is on or
# SERVE_MEDIA is set (docker-compose sets it: one box, no proxy). Behind a proxy or with object storage, leave it off
# and serve MEDIA_ROOT there.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Content-Security-Policy (django-csp) on every page and the admin ---
# Only our own files run and style the pages: no inline <script>, no inline style attributes, no eval, nothing
# from other origins (static files and media are served from this origin). One view widens it: the Swagger UI
# at /api/docs/ (config/urls.py), whose stylesheet uses inline styles and data: images. docs/security.md.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Request limits (config/middleware.py, config/parsers.py; gunicorn.conf.py sets gunicorn's, higher) ---
# Over these the app answers itself: 413 request_too_large, 414 uri_too_long, 431 request_headers_too_large
# (JSON in the error shape under /api/, a page elsewhere). File uploads do not count towards the body limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)  # 2.5 MiB
REQUEST_MAX_URL_BYTES = 4096
REQUEST_MAX_HEADER_BYTES = 16384

# --- DRF / OpenAPI ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.SignedCursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.negotiation.JsonFirstNegotiation",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # only if a DRF throttle other than config.ratelimit's is ever added
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Where config.api.idempotent keeps Idempotency-Key records (a module implementing config.api.IdempotencyStore).
IDEMPOTENCY_STORE = "accounts.idempotency"
# A bearer token checked against the database is trusted from memory for this long (no query per request); a
# revocation made in another process takes effect within it (docs/adr/0007-bearer-token-cache.md). 0: always check.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=10)
# Signed access tokens are checked without a query against the revoked ids each process learns by LISTEN
# (accounts/revocations.py, docs/adr/0012-signed-access-tokens.md). Off: they are checked in the database, as above.
API_TOKEN_REVOCATION_FEED = env.bool("API_TOKEN_REVOCATION_FEED", default=True)
SPECTACULAR_SETTINGS = {
    "TITLE": "Points Mall & Activity Portal API",
    "DESCRIPTION": (
        "Member API for the mobile app. Errors always have the shape "
        '{"error": {"code", "message", "details"}}. POSTs that move points or stock accept an '
        "Idempotency-Key header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.document_refusals",  # 414/431 from config/middleware.py, on every operation
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several serializers have a "kind" field; name the prize kinds' enum.
    "ENUM_NAME_OVERRIDES": {
        "PrizeKindEnum": "lottery.models.PrizeKind",
        "EventRejectionEnum": "tasks.errors.EventRejection",
        "OrderStatusEnum": "mall.models.OrderStatus",
        "ShipmentStatusEnum": "shipments.rules.ShipmentStatus",
        "StatementStatusEnum": "partners.selectors.StatementStatus",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
        }
    },
}

# --- Celery ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# Jobs are fire-and-forget: nothing reads a task's result, so none is kept and `.delay()` subscribes to nothing (a
# Redis result backend subscribes to every task's result and, with Redis down, retries for ~20 s under a lock).
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
# Publishing fails fast when the broker is down (callers catch it; jobs members wait for go through the outbox):
# one immediate retry (a pooled connection that died with a Redis restart), short socket timeouts.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis re-delivers unacked tasks after the visibility timeout; it must exceed the longest task
# and any countdown/eta we use. Keep the broker and result transport on the same value.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
# The Redis transport takes its socket timeouts from here (not from broker_connection_timeout).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 0.5,
    "socket_timeout": 0.5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = CELERY_VISIBILITY_TIMEOUT - 60
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_VISIBILITY_TIMEOUT - 120
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Installed into django-celery-beat's tables at beat start-up; operators can see and edit them in admin.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "points-rollup": {"task": "points.rollup", "schedule": 60.0},
    "points-expire-lots": {"task": "points.expire_lots", "schedule": crontab(minute=5)},
    "points-reconcile": {"task": "points.reconcile", "schedule": crontab(hour=19, minute=30)},  # 03:30 Shanghai
    "tasks-streak-rewards-sweep": {"task": "tasks.streak_rewards_sweep", "schedule": 300.0},
    "accounts-idempotency-prune": {"task": "accounts.idempotency_prune", "schedule": crontab(hour=20, minute=0)},
    "shipments-expire": {"task": "shipments.expire", "schedule": crontab(minute=15)},
    "mall-pools-low-check": {"task": "mall.pools_low_check", "schedule": 600.0},  # code pools running low
    # Invite leaderboard (referrals/leaderboard.py): the hourly snapshot (and rebuild of the Redis set) of running
    # campaigns, and the final top-N awards once a campaign's official phase is over (acts once per campaign).
    "referrals-leaderboard-snapshot": {"task": "referrals.leaderboard_snapshot", "schedule": crontab(minute=0)},
    "referrals-final-awards": {"task": "referrals.final_awards", "schedule": 600.0},
    # Invites qualified by a sign-in on a later day, and invitees who never act again (flagged for review).
    "referrals-later-login-sweep": {"task": "referrals.later_login_sweep", "schedule": 300.0},
    "referrals-idle-sweep": {"task": "referrals.idle_sweep", "schedule": crontab(minute=40)},
    # Jobs members wait for (ADR 0008): re-publish what is pending past its due time. A relay message that waited
    # 30 s in the queue is dropped (after a worker outage, a backlog of relays would only repeat one another).
    "outbox-relay": {"task": "outbox.relay", "schedule": 5.0, "options": {"expire_seconds": 30}},
    # Member levels (levels/jobs.py): members queued right after an earning, members credited since the watermark
    # (heals what the queue lost), and period ends of a re-evaluating ladder (idempotent).
    "levels-drain": {"task": "levels.drain", "schedule": 5.0, "options": {"expire_seconds": 30}},
    "levels-sweep": {"task": "levels.sweep", "schedule": 60.0},
    "levels-period-close": {"task": "levels.period_close", "schedule": 300.0},
    "outbox-prune": {"task": "outbox.prune", "schedule": crontab(hour=20, minute=45)},
    # Last month's supplier statements on the 1st at 02:00 Shanghai time: a crontab in its own timezone (beat runs
    # in UTC, where "the 1st, 02:00 Shanghai" is the last day of the month, which a UTC crontab cannot name).
    "mall-statements-monthly": {
        "task": "mall.statements_monthly",
        "schedule": TzAwareCrontab(minute=0, hour=2, day_of_month=1, tz=ZoneInfo("Asia/Shanghai")),
    },
    # Partners: last month's statements at 03:00 and the tier review at 04:00 on the 1st, Shanghai time (issue 15).
    "partners-statements": {
        "task": "partners.statements_issue",
        "schedule": TzAwareCrontab(minute=0, hour=3, day_of_month=1, tz=ZoneInfo("Asia/Shanghai")),
    },
    "partners-tiers-review": {
        "task": "partners.tiers_review",
        "schedule": TzAwareCrontab(minute=0, hour=4, day_of_month=1, tz=ZoneInfo("Asia/Shanghai")),
    },
}

# --- Member levels ---
# levels/earning.py: a process sends the members queued by its earnings to Redis (`SADD levels:due`) at most once per
# this many seconds, in one command (not one round trip per earning on the member's request). 0: at once (tests).
LEVELS_DUE_FLUSH_SECONDS = env.float("LEVELS_DUE_FLUSH_SECONDS", default=1.0)

# --- Admin branding ---
ADMIN_SITE_HEADER = env("ADMIN_SITE_HEADER", default="")  # unset: the translated default (config/urls.py)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
