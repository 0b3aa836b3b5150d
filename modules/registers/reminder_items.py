"""The one shape every register's reminders share (line payments, licences, certificates ...).

Each register exposes ``due_reminders(*, today) -> list[ReminderItem]``; the daily digest
(``kentcbs registers remind``) groups the items by ``unit`` and mails one digest per unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gis_core.models import Department


@dataclass(frozen=True)
class ReminderItem:
    """Something a responsible unit must act on by ``due``.

    ``unit`` is the responsible department (None: the IT directorate's own list);
    ``kind`` a stable ASCII code (``line_payment_overdue`` ...); ``title`` the text shown
    (Turkish); ``url`` the page where it is handled (a path inside KentCBS).
    """

    unit: Department | None
    kind: str
    title: str
    due: dt.date
    url: str
