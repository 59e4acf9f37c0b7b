"""Benchmark settings: production settings (DEBUG off), on the database named by DATABASE_URL."""

import os

# DEBUG would log every query; production has no development key, so the bench brings its own.
os.environ["DEBUG"] = "false"
os.environ.setdefault("SECRET_KEY", "bench-only-key-never-used-to-sign-anything-real-0123456789")

from muteadmin.settings import *  # noqa: F403

# Django's test client speaks plain HTTP to the host "testserver", in-process.
ALLOWED_HOSTS = ["testserver"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Pages are rendered from static/ directly: the bench needs no collectstatic manifest.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# The bench never calls Tencent, whatever a local .env says.
TIM_SDKAPPID = None
