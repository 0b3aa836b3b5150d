"""``kentcbs``: one console command for everything an operator does.

It is Django's ``manage.py`` under one name, with two additions: it refuses an
old Python with one line, and before any command that needs the database it
makes the database ready (the embedded cluster is initialised and started, or
``DATABASE_URL`` is checked for reachability and PostGIS).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gis_core.errors import KentCBSError

#: Commands that must run without touching the database.
NO_DATABASE_COMMANDS = {
    "db", "help", "--help", "-h", "version", "--version", "compilemessages",
    "makemessages", "collectstatic", "findstatic", "diffsettings", "shell_plus",
}


def main(argv: list[str] | None = None) -> int:
    """Run a KentCBS command; return the process exit code."""
    if sys.version_info < (3, 12):  # noqa: UP036 (a clear message on an old Python)
        sys.stderr.write(
            "kentcbs: [PYTHON_TOO_OLD] Python 3.12 veya üstü gerekli, bu Python "
            f"{sys.version.split()[0]} / Python 3.12 or newer is required, this is "
            f"{sys.version.split()[0]}.\n"
        )
        return 2
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "kentcbs"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")

    command = argv[1] if len(argv) > 1 else "help"
    if command == "ingest" and "--help" not in argv and "-h" not in argv:
        # the ETL's parser server imports its readers beside Django's start-up
        from etl.safety import warm_up

        warm_up()

    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import CommandError, execute_from_command_line

    from gis_core.errors import KentCBSError

    # Django prints a command's error as "<ClassName>: message"; with --traceback it raises
    # instead, so every error reads the same ("kentcbs: [CODE] ...") whether it happens
    # before the command (database) or inside it. A user's own --traceback is honoured.
    wants_traceback = "--traceback" in argv
    if (command not in {"help", "--help", "-h", "version", "--version"}
            and "--help" not in argv and not wants_traceback):
        argv.insert(2, "--traceback")
    try:
        django.setup()
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"kentcbs: [CONFIG] {exc}\n")
        return 2
    try:
        if command not in NO_DATABASE_COMMANDS and "--help" not in argv:
            from gis_core import database

            database.ensure_ready()
        from gis_core.audit import audit_context

        with audit_context(source="shell"):
            execute_from_command_line(argv)
    except CommandError as exc:
        if wants_traceback:
            raise
        sys.stderr.write(f"kentcbs: {exc}\n")
        return exc.exit_code if isinstance(exc, KentCBSError) else exc.returncode
    except Exception as exc:
        lost = database_lost(exc)
        if lost is None or wants_traceback:
            raise
        sys.stderr.write(f"kentcbs: {lost}\n")
        return lost.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


def database_lost(exc: BaseException) -> KentCBSError | None:
    """The one-line error for a database that stopped answering in the middle of a command
    (PostgreSQL stopped or killed, the network or the server gone), or ``None`` when ``exc``
    is something else. Whatever the command had not committed was rolled back by
    PostgreSQL; the command is simply run again."""
    import psycopg2
    from django.db import utils

    from gis_core.errors import DatabaseSetupError

    lost = (utils.OperationalError, utils.InterfaceError, psycopg2.OperationalError,
            psycopg2.InterfaceError)
    if not isinstance(exc, lost):
        return None
    text = str(exc).strip()
    reason = text.splitlines()[0].strip() if text else type(exc).__name__
    return DatabaseSetupError(
        "DB_CONNECTION_LOST", "The database stopped answering during the command ({reason}). "
        "Nothing it had not finished was saved. Check that PostgreSQL runs (kentcbs db "
        "status) and run the command again.", reason=reason[:200])


if __name__ == "__main__":
    sys.exit(main())
