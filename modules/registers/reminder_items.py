"""The one shape every register's reminders share (line payments, licences, certificates ...).

Each register exposes ``due_reminders(*, today) -> list[ReminderItem]``; the daily digest
(``kentcbs registers remind``) groups the items by ``unit`` and mails one digest per unit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReminderItem:
    """Something a responsible unit must act on by ``due``.

    ``unit`` is the responsible department (None: the IT directorate's own list);
    ``kind`` a stable ASCII code (``licence``, ``line_payment_overdue`` ...); ``title`` the
    text shown (in the language active when the item was made); ``url`` the page where it is
    handled (a path inside KentCBS).
    """

    unit: Any  # gis_core.models.Department or None (the IT directorate)
    kind: str
    title: str
    due: dt.date
    url: str = ""

    def days_left(self, today: dt.date) -> int:
        return (self.due - today).days

    def as_json(self, today: dt.date) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "due": self.due.isoformat(),
                "days": self.days_left(today), "url": self.url}
