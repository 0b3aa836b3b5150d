"""The municipality's departments (müdürlükler and units) and roles, from an editable YAML.

The default tree is ``gis_core/data/departments.yaml``; a municipality edits a copy
and gives it to ``kentcbs municipality init --departments <file>``, which keeps it as
``$KENTCBS_HOME/departments.yaml`` (:func:`departments_file`). Every ``migrate`` (and
the migration that first created the departments) adds what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "departments.yaml"
#: Departments KentCBS's code names (GIS administrators: layers.access).
REQUIRED = ("bilgi_islem", "cbs")
KNOWN_ROLES = ("viewer", "data_entry", "gis_admin", "technician", "network_admin", "manager")


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    name_en: str
    parent: str | None


def departments_file() -> Path:
    """The deployment's file (``$KENTCBS_HOME/departments.yaml``) or the shipped default."""
    from gis_core.database import kentcbs_home

    own = kentcbs_home() / "departments.yaml"
    return own if own.exists() else DEFAULT_FILE


def read_departments(path: Path | None = None) -> tuple[list[DepartmentRow], list[str]]:
    """The departments (parents first) and roles of a departments file.

    Raises
    ------
    KentCBSError
        ``DEPARTMENTS_FILE_INVALID`` with the problem (not YAML, a code twice, a parent
        that is not listed, an unknown role, a required department missing).
    """
    from gis_core.errors import KentCBSError

    path = path or departments_file()

    def invalid(problem: str, **params: object) -> KentCBSError:
        return KentCBSError("DEPARTMENTS_FILE_INVALID", "The departments file {path} is not "
                            "usable: " + problem, path=str(path), **params)

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise invalid("{reason}", reason=str(exc).splitlines()[0][:200]) from None
    if not isinstance(data, dict) or not isinstance(data.get("departments"), list):
        raise invalid("it needs a 'departments' list.")
    rows: list[DepartmentRow] = []
    for index, item in enumerate(data["departments"]):
        if not isinstance(item, dict) or not item.get("code") or not item.get("name"):
            raise invalid("departments[{index}] needs a code and a name.", index=index)
        code = str(item["code"])
        if not code.isascii() or not code.replace("_", "").isalnum() or code != code.lower():
            raise invalid("the code '{dept}' must be lower-case ASCII letters, digits and _.",
                          dept=code)
        rows.append(DepartmentRow(code, str(item["name"]), str(item.get("name_en") or ""),
                                  str(item["parent"]) if item.get("parent") else None))
    codes = [row.code for row in rows]
    twice = sorted({code for code in codes if codes.count(code) > 1})
    if twice:
        raise invalid("the code(s) {codes} appear more than once.", codes=", ".join(twice))
    for row in rows:
        if row.parent is not None and row.parent not in codes:
            raise invalid("the parent '{parent}' of '{dept}' is not listed.", parent=row.parent,
                          dept=row.code)
    missing = [code for code in REQUIRED if code not in codes]
    if missing:
        raise invalid("KentCBS needs the department(s) {codes}.", codes=", ".join(missing))
    roles = [str(role) for role in data.get("roles") or KNOWN_ROLES]
    unknown = [role for role in roles if role not in KNOWN_ROLES]
    if unknown:
        raise invalid("unknown role(s) {roles}; KentCBS roles are {known}.",
                      roles=", ".join(unknown), known=", ".join(KNOWN_ROLES))
    # Parents first, so that each is created before its units.
    ordered: list[DepartmentRow] = []
    placed: set[str] = set()
    while len(ordered) < len(rows):
        ready = [r for r in rows if r.code not in placed and (r.parent is None or r.parent
                                                               in placed)]
        if not ready:
            raise invalid("the parents form a cycle.")
        ordered.extend(ready)
        placed.update(r.code for r in ready)
    return ordered, roles


def ensure_shipped_departments(*, department_model: Any = None, group_model: Any = None,
                               path: Path | None = None) -> None:
    """Create the departments of the departments file and one auth group per role;
    idempotent.

    Existing rows keep any local edits (names, activity); only missing ones are added.
    """
    if department_model is None:
        from django.contrib.auth.models import Group

        from gis_core.models import Department

        department_model, group_model = Department, Group
    rows, roles = read_departments(path)
    by_code = {d.code: d for d in department_model.objects.filter(
        code__in=[row.code for row in rows])}
    for row in rows:
        if row.code not in by_code:
            by_code[row.code] = department_model.objects.create(
                code=row.code, name=row.name, name_en=row.name_en,
                kind="unit" if row.parent else "directorate", parent=by_code.get(row.parent))
    for role in roles:
        group_model.objects.get_or_create(name=f"kentcbs:{role}")


def __getattr__(name: str) -> Any:
    # The former constants, read from the file.
    if name == "DEPARTMENTS":
        return [(r.code, r.name, r.name_en, r.parent) for r in read_departments()[0]]
    if name == "ROLES":
        return read_departments()[1]
    raise AttributeError(name)
