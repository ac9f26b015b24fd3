from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.institutions import InstitutionError, create_institution


class Command(BaseCommand):
    help = "Register a designated hospital or pharmacy; prints its API key once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, help="hospital or pharmacy")
        parser.add_argument("--region", required=True, help="6-digit division code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            institution, key = create_institution(options["code"], options["name"], options["kind"], options["region"])
        except InstitutionError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"Created {institution.name} ({institution.code}, {institution.kind}, region {institution.region_id}).")
        self.stdout.write("Its API key follows; it is shown only this once and only a hash of it is stored:")
        self.stdout.write(key)
