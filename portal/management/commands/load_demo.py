from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.demo import load


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo log-ins and institution API keys."

    def handle(self, *args: Any, **options: Any) -> None:
        for line in load():
            self.stdout.write(line)
