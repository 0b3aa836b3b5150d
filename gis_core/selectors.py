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
    pairs, departments = _memberships_and_lineage(user.pk)
    access = UserAccess(is_authenticated=True, is_superuser=bool(user.is_superuser),
                        departments=frozenset(departments),
                        roles=frozenset(role for _code, role in pairs), memberships=pairs)
    user._kentcbs_access = access
    return access


def _memberships_and_lineage(user_id: int) -> tuple[frozenset[tuple[str, str]], set[str]]:
    """The user's (department code, role) pairs in active departments, and those
    departments with their ancestors (at most 32 levels up, against a cycle).

    One query on every request that asks a permission question (two before: the whole
    department tree, then the memberships)."""
    from gis_core.models import Department, Membership
    from gis_core.routers import reader

    department, membership = Department._meta.db_table, Membership._meta.db_table
    with reader().cursor() as cursor:
        cursor.execute(f"""
            WITH RECURSIVE granted AS (
                SELECT d.id, d.code, d.parent_id, m.role
                  FROM {membership} m JOIN {department} d ON d.id = m.department_id
                 WHERE m.user_id = %s AND d.is_active),
            lineage(id, code, parent_id, depth) AS (
                SELECT DISTINCT id, code, parent_id, 1 FROM granted
                UNION
                SELECT p.id, p.code, p.parent_id, l.depth + 1
                  FROM {department} p JOIN lineage l ON p.id = l.parent_id
                 WHERE l.depth < 32)
            SELECT code, role FROM granted
            UNION ALL
            SELECT DISTINCT code, NULL FROM lineage""",  # noqa: S608 - the models' own tables
            [user_id])
        rows = cursor.fetchall()
    pairs = frozenset((code, role) for code, role in rows if role is not None)
    return pairs, {code for code, role in rows if role is None}


def is_it_staff(user: Any) -> bool:
    """Members of the IT directorate (Bilgi İşlem) or superusers."""
    access = user_access(user)
    return access.is_superuser or "bilgi_islem" in access.departments
