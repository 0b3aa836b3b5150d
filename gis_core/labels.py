"""Words, not codes: the label of a role, a department or a code-list entry in the active
language (Turkish unless the user chose English), one language at a time.

Pages show these instead of ``data_entry``, ``imar_sehircilik`` or ``desktop``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

#: Role labels (English msgids; Turkish in gis_core/locale).
ROLE_LABELS = {
    "viewer": _("Viewer"),
    "data_entry": _("Data entry"),
    "gis_admin": _("GIS administrator"),
    "technician": _("Technician"),
    "network_admin": _("Network administrator"),
    "manager": _("Manager"),
}


def english() -> bool:
    """Whether the active language is English."""
    return (get_language() or "tr").startswith("en")


def role_label(code: str) -> str:
    """``data_entry`` → "Veri girişi" (or "Data entry")."""
    return str(ROLE_LABELS.get(code, code))


def department_label(department: Any) -> str:
    """A department's name in the active language (the Turkish name when no English one)."""
    if department is None:
        return ""
    if english() and getattr(department, "name_en", ""):
        return str(department.name_en)
    return str(department.name)


def department_labels(codes: Any = None) -> dict[str, str]:
    """Department code → name in the active language (all departments, or ``codes``)."""
    from gis_core.models import Department

    departments = Department.objects.all()
    if codes is not None:
        departments = departments.filter(code__in=list(codes))
    return {d.code: department_label(d) for d in departments}


def code_labels(list_name: str) -> dict[str, str]:
    """Code → label in the active language, of a registry code list (``bt_varlik_kategori``)."""
    from layers.codelists import codelist

    en = english()
    return {entry.code: (entry.label_en if en and entry.label_en else entry.label_tr)
            for entry in codelist(list_name)}
