"""Settings of bench/settlement.py: the real settings plus a comparison view (bench/urls.py).

Never used in production: the bench URLs add a page that reads an account by id.
"""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
