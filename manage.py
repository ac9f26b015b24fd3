#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that only read or write source files (migrations, message catalogues) run with the
# development defaults, so they work on a checkout without any configuration.
SOURCE_COMMANDS = {"makemigrations", "makemessages", "compilemessages"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in SOURCE_COMMANDS:
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load the settings now, so a bad value is reported as such
    except ImproperlyConfigured as exc:
        # Django would otherwise carry on and fail later with an unrelated "Models aren't loaded yet".
        sys.exit(f"Configuration error: {exc}\nOn a development machine set DJANGO_DEBUG=1 (make run does).")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
