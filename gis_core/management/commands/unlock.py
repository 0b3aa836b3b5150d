"""``kentcbs unlock``: lift a sign-in lockout (django-axes), or list recent failures.

    kentcbs unlock bim.mudur              # the account
    kentcbs unlock --address 10.0.4.17    # the address
    kentcbs unlock --list                 # accounts and addresses with recent failures
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from gis_core import signin
from gis_core.errors import KentCBSError, bilingual


class Command(BaseCommand):
    help = ("Unlock an account or an address locked after failed sign-ins; --list shows "
            "recent failures.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username", nargs="*", help="accounts to unlock")
        parser.add_argument("--address", action="append", default=[],
                            help="an address (IP) to unlock; may be repeated")
        parser.add_argument("--list", action="store_true", help="list recent failures")

    def handle(self, *args: Any, **options: Any) -> None:
        usernames, addresses = options["username"], options["address"]
        if options["list"]:
            rows = signin.recent_failures()
            if not rows:
                self.stdout.write(bilingual("No failed sign-ins within the lockout period."))
            for row in rows:
                self.stdout.write(f"{row['username'] or '-'}\t{row['address'] or '-'}\t"
                                  f"{row['failures']}\t{row['last']:%Y-%m-%d %H:%M:%S}")
            if not usernames and not addresses:
                return
        if not usernames and not addresses:
            raise KentCBSError("UNLOCK_NOTHING",
                               "Name an account (kentcbs unlock <user>) or an address "
                               "(--address <ip>) to unlock.")
        for username in usernames:
            count = signin.unlock(username=username)
            self.stdout.write(bilingual("{name}: unlocked ({count} failure records cleared).",
                                        name=username, count=count))
        for address in addresses:
            count = signin.unlock(address=address)
            self.stdout.write(bilingual("{name}: unlocked ({count} failure records cleared).",
                                        name=address, count=count))
