"""Permission-aware reads of the core domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UserAccess:
    """What a user is, for permission questions: departments (with ancestors) and roles."""

    is_authenticated: bool = False
    is_superuser: bool = False
    departments: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    #: (department code, role) pairs as granted, without ancestors.
    memberships: frozenset[tuple[str, str]] = field(default_factory=frozenset)


ANONYMOUS = UserAccess()


def department_parents() -> dict[str, str | None]:
    """Every department code with its parent's code (``None`` at the top)."""
    from gis_core.models import Department

    return dict(Department.objects.values_list("code", "parent__code"))


def department_lineage(code: str, parents: dict[str, str | None]) -> list[str]:
    """``code`` and its ancestors, nearest first (at most 32 levels, against a cycle)."""
    lineage: list[str] = []
    node: str | None = code
    while node and len(lineage) < 32:
        lineage.append(node)
        node = parents.get(node)
    return lineage


def user_access(user: Any) -> UserAccess:
    """Return the departments (with their ancestors) and roles of ``user``.

    Cached on the user object for the request.

    Examples
    --------
    >>> user_access(None).is_authenticated
    False
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_kentcbs_access", None)
    if cached is not None:
        return cached
    from gis_core.models import Membership

    parents = department_parents()
    pairs = frozenset(Membership.objects.filter(user=user, department__is_active=True)
                      .values_list("department__code", "role"))
    departments = {node for code, _role in pairs for node in department_lineage(code, parents)}
    access = UserAccess(is_authenticated=True, is_superuser=bool(user.is_superuser),
                        departments=frozenset(departments),
                        roles=frozenset(role for _code, role in pairs), memberships=pairs)
    user._kentcbs_access = access
    return access


def is_it_staff(user: Any) -> bool:
    """Members of the IT directorate (Bilgi İşlem) or superusers."""
    access = user_access(user)
    return access.is_superuser or "bilgi_islem" in access.departments
