"""Directory groups → KentCBS departments and roles: the municipality's group map (YAML).

The file (``KENTCBS_LDAP_GROUPS_FILE``, by default ``$KENTCBS_HOME/directory-groups.yaml``;
an example is ``docs/directory-groups.example.yaml``) lists directory groups by their
distinguished name, each with the department code (``gis_core.departments``) and the
role (``gis_core.choices.RoleChoices``) its members get::

    groups:
      - dn: cn=technician,ou=bilgi_islem,ou=kentcbs,dc=belediye,dc=local
        department: bilgi_islem
        role: technician

A user holds one membership for every listed group they are in; other groups are
ignored. DNs are compared the way LDAP does (attribute names and values without case,
spaces around separators ignored). The file is read again when it changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gis_core.errors import KentCBSError

Role = Literal["viewer", "data_entry", "gis_admin", "technician", "network_admin", "manager"]


def normalise_dn(dn: str) -> str:
    """``dn`` in one spelling per entry: lower case, no spaces around separators.

    Examples
    --------
    >>> normalise_dn("CN=Teknisyen, OU=Bilgi Islem ,DC=belediye,DC=local")
    'cn=teknisyen,ou=bilgi islem,dc=belediye,dc=local'
    """
    import ldap.dn

    rdns = ldap.dn.str2dn(dn.strip())
    return ldap.dn.dn2str([[(attr.lower(), value.strip().lower(), flags)
                            for attr, value, flags in rdn] for rdn in rdns])


class GroupRule(BaseModel):
    """One directory group and what its members get in KentCBS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dn: Annotated[str, Field(min_length=3)]
    department: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
    role: Role

    @field_validator("dn")
    @classmethod
    def _valid_dn(cls, value: str) -> str:
        import ldap.dn

        if not ldap.dn.is_dn(value.strip()):
            raise ValueError(f"not a distinguished name: {value!r}")
        return value.strip()


class GroupMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: list[GroupRule]


@dataclass(frozen=True)
class GroupMap:
    """The parsed group map: normalised group DN → (department code, role) pairs."""

    rules: dict[str, frozenset[tuple[str, str]]]

    def memberships(self, group_dns: Iterable[str]) -> set[tuple[str, str]]:
        """The (department code, role) pairs that membership in ``group_dns`` gives.

        Examples
        --------
        >>> gmap = GroupMap({"cn=a,dc=b": frozenset({("cbs", "viewer")})})
        >>> gmap.memberships(["CN=A, DC=B", "cn=other,dc=b"])
        {('cbs', 'viewer')}
        """
        wanted: set[tuple[str, str]] = set()
        for dn in group_dns:
            wanted |= self.rules.get(normalise_dn(dn), frozenset())
        return wanted

    @property
    def departments(self) -> set[str]:
        return {code for pairs in self.rules.values() for code, _role in pairs}


class GroupMapError(KentCBSError):
    """The group map cannot be used (missing file, bad YAML, bad entries)."""


def parse_group_map(text: str, *, source: str = "directory-groups.yaml") -> GroupMap:
    """Parse the YAML ``text`` of a group map; :class:`GroupMapError` when it is wrong."""
    try:
        data = yaml.safe_load(text)
        parsed = GroupMapFile.model_validate(data)
    except yaml.YAMLError as exc:
        raise GroupMapError("LDAP_GROUPS_FILE_INVALID",
                            "The directory group map {path} is not valid YAML: {reason}",
                            path=source, reason=str(exc).splitlines()[0]) from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise GroupMapError("LDAP_GROUPS_FILE_INVALID",
                            "The directory group map {path} is wrong at {where}: {reason}",
                            path=source, where=where, reason=first["msg"]) from exc
    rules: dict[str, set[tuple[str, str]]] = {}
    for rule in parsed.groups:
        rules.setdefault(normalise_dn(rule.dn), set()).add((rule.department, rule.role))
    return GroupMap({dn: frozenset(pairs) for dn, pairs in rules.items()})


_cache: dict[Path, tuple[int, GroupMap]] = {}
_lock = threading.Lock()


def load_group_map(path: Path) -> GroupMap:
    """The group map in ``path``, parsed again only when the file changed."""
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise GroupMapError("LDAP_GROUPS_FILE_MISSING",
                            "The directory group map {path} cannot be read: {reason}",
                            path=str(path), reason=exc.strerror or str(exc)) from exc
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    gmap = parse_group_map(path.read_text(encoding="utf-8"), source=str(path))
    with _lock:
        _cache[path] = (stamp, gmap)
    return gmap
