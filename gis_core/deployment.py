"""The deployment's municipality file: ``$KENTCBS_HOME/municipality.json``.

``kentcbs municipality init`` writes it before it creates the database schema;
``gis_core.settings`` reads it at every start, so ``settings.KENTCBS_SRID`` (the
storage SRID every migration and model uses) and ``settings.KENTCBS_PROFILE``
(the municipality's code) come from it. Environment variables still win
(``KENTCBS_SRID``, ``KENTCBS_PROFILE``), for the tests and the demo.

The file lives beside the database it describes (``KENTCBS_HOME`` also holds
the embedded cluster). With ``DATABASE_URL`` the operator keeps one
``KENTCBS_HOME`` per database. No Django import here: settings read it.

Example content::

    {"code": "ipekyolu", "name": "İpekyolu", "province": "Van", "srid": 5258}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "municipality.json"


def municipality_file(home: Path) -> Path:
    return home / FILE_NAME


def read_municipality_file(home: Path) -> dict[str, Any] | None:
    """The file's content, or ``None`` when there is none (or it is not a JSON object)."""
    path = municipality_file(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("srid"), int) else None


def write_municipality_file(home: Path, data: dict[str, Any]) -> Path:
    """Write the file atomically (a reader sees the old or the new content)."""
    home.mkdir(parents=True, exist_ok=True)
    path = municipality_file(home)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
