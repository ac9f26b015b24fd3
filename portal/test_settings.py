"""Settings for the test suite: the real settings with test-friendly defaults from the env."""

import os

os.environ.setdefault("PORTAL_TESTING", "1")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("PORTAL_CELERY_EAGER", "1")
os.environ.setdefault("PORTAL_SMS_SENDER", "accounts.channels.MemorySender")
os.environ.setdefault("PORTAL_EMAIL_SENDER", "accounts.channels.MemorySender")
os.environ.setdefault("PORTAL_ENUMERATION_FLOOR_MS", "20")  # tests that measure it set their own

from .settings import *  # noqa: E402,F403

DEBUG = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
