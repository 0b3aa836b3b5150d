"""``kentcbs tokens create|list|revoke``: personal access tokens for QGIS and GDAL."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from ogc_api.models import PersonalAccessToken
from ogc_api.services import create_token, revoke_token


class Command(BaseCommand):
    help = "Create, list and revoke personal access tokens (HTTP Basic for QGIS/GDAL)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token (shown once)")
        create.add_argument("username")
        create.add_argument("--name", default="QGIS")
        listing = sub.add_parser("list", help="list tokens")
        listing.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            row, token = create_token(username=options["username"], name=options["name"])
            self.stdout.write(f"id={row.pk} name={row.name}\n{token}")
            self.stderr.write("Bu anahtar bir daha gösterilmez. / This token is not shown again.")
        elif action == "list":
            rows = PersonalAccessToken.objects.select_related("user").order_by("pk")
            if options.get("username"):
                rows = rows.filter(user__username=options["username"])
            for row in rows:
                state = "revoked" if row.revoked else "active"
                used = row.last_used.isoformat() if row.last_used else "-"
                self.stdout.write(f"{row.pk}\t{row.user.username}\t{row.name}\t{row.prefix}…\t"
                                  f"{state}\tcreated={row.created:%Y-%m-%d}\tlast_used={used}")
        else:
            row = revoke_token(token_id=options["token_id"])
            self.stdout.write(f"revoked {row.pk} ({row.name})")
