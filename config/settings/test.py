from .base import *

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
ALLOWED_HOSTS = ["*"]
DATABASES["default"]["NAME"] = env("TEST_DATABASE_NAME", default="pointsmall")
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_TEST_NAME", default="test_pointsmall")}
# Concurrency tests fire dozens of threads at once; each needs its own connection.
DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 80, "timeout": 30.0}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never outside tests
CACHES["default"]["KEY_PREFIX"] = env("CACHE_PREFIX", default="pmtest")
CACHES["default"]["LOCATION"] = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
RATELIMIT_REDIS_URL = CACHES["default"]["LOCATION"]  # the autouse cache.clear() resets the limits too
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/14")
CELERY_RESULT_BACKEND = CELERY_BROKER_URL  # jobs keep no result; only the ping in tests/test_celery.py asks for one
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
AXES_FAILURE_LIMIT = 5
LANGUAGE_CODE = "zh-hans"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests run inside transactions, whose notifications are never delivered: tokens are checked in the database, and
# the tests of the feed (tests/accounts/test_signed_tokens.py) start one of their own on committed data.
API_TOKEN_REVOCATION_FEED = False
# An earning's member is in `levels:due` right after its commit (tests/levels/test_due_queue.py tests the batching).
LEVELS_DUE_FLUSH_SECONDS = 0.0
