"""Code lists: the allowed values of coded fields, kept as data.

Each list is one YAML file ``layers/codelists/<name>.yaml``; ``kentcbs layers
sync`` and every ``kentcbs migrate`` load them into the table
``layers_codelistentry``, which is what :func:`codelist` reads. An entry's
``code`` is the value stored in a layer's column (``Cadde``, ``LED``); the
labels are for people.

A file may take its entries from elsewhere instead of listing them:

* ``from_choices: gis_core.choices.AssetCategoryChoices`` (a Django TextChoices);
* ``from_neighbourhoods: true``: the official neighbourhood names of the active
  municipality's district, from the national registry (:mod:`layers.official`);
  ``gis_core.Neighbourhood`` rows only when the district is not in the registry.

>>> [entry.code for entry in codelist("yol_tipi")][:3]  # doctest: +SKIP
['Cadde', 'Sokak', 'Bulvar']
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from layers.errors import CodeListFileError, UnknownCodeListError

#: libyaml's safe loader when PyYAML was built with it (the same safe constructor and
#: resolver, in C: reading the definitions at every process start took ~0.3 s in Python).
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

if TYPE_CHECKING:
    from layers.models import CodeListEntry

CODELISTS_DIR = Path(__file__).resolve().parent / "codelists"


@dataclass(frozen=True)
class CodeListItem:
    """One entry as read from a file (before it is stored)."""

    code: str
    label_tr: str
    label_en: str


@functools.cache
def codelist_names() -> frozenset[str]:
    """Names of every shipped code list (the files under ``layers/codelists/``).

    Read once per process: the files are part of the release, as the layer definitions
    are (a new list comes with a new release, and its reload)."""
    return frozenset(path.stem for path in CODELISTS_DIR.glob("*.yaml"))


@functools.cache
def _read(name: str) -> dict[str, Any]:
    path = CODELISTS_DIR / f"{name}.yaml"
    if not path.exists():
        raise UnknownCodeListError(name)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise CodeListFileError(path=str(path), problem=f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CodeListFileError(path=str(path), problem="must be a mapping")
    return data


def codelist_title(name: str) -> dict[str, str]:
    """The list's title (``{"tr": ..., "en": ...}``)."""
    title = _read(name).get("title") or {}
    return {"tr": str(title.get("tr", name)), "en": str(title.get("en", name))}


def _items(raw: list[Any], path: str) -> list[CodeListItem]:
    items = []
    for index, entry in enumerate(raw):
        if isinstance(entry, str):
            items.append(CodeListItem(entry, entry, entry))
        elif isinstance(entry, dict) and "code" in entry:
            code = str(entry["code"])
            label_tr = str(entry.get("label_tr", code))
            items.append(CodeListItem(code, label_tr, str(entry.get("label_en", label_tr))))
        else:
            raise CodeListFileError(path=path, problem=f"entries[{index}] needs a 'code'")
    codes = [item.code for item in items]
    if len(set(codes)) != len(codes):
        raise CodeListFileError(path=path, problem="a code appears twice")
    return items


def _from_choices(dotted: str, path: str) -> list[CodeListItem]:
    module_name, _, attr = dotted.rpartition(".")
    try:
        choices = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        return []  # the core app does not ship these choices (yet): an empty list
    from django.utils import translation

    items = []
    for value, label in choices.choices:
        with translation.override("tr"):
            label_tr = str(label)
        with translation.override("en"):
            label_en = str(label)
        if label_tr == label_en and " / " in label_tr:  # "Türkçe / English" labels
            label_tr, label_en = (part.strip() for part in label_tr.split(" / ", 1))
        items.append(CodeListItem(str(value), label_tr, label_en))
    return items


def _neighbourhood_names() -> list[str]:
    """Names of the active municipality's neighbourhoods stored by gis_core, if any."""
    from django.apps import apps
    from django.db import DatabaseError

    try:
        model = apps.get_model("gis_core", "Neighbourhood")
    except LookupError:
        return []
    queryset = model.objects.all()
    field_names = {f.name for f in model._meta.get_fields()}
    if "municipality" in field_names:
        from django.conf import settings

        municipality = apps.get_model("gis_core", "Municipality")
        mfields = {f.name for f in municipality._meta.get_fields()}
        if "code" in mfields:
            queryset = queryset.filter(municipality__code=settings.KENTCBS_PROFILE)
    try:
        return sorted({str(name) for name in queryset.values_list("name", flat=True)})
    except DatabaseError:
        return []


def file_entries(name: str) -> list[CodeListItem]:
    """The entries of code list ``name`` from its file (and its declared source)."""
    data = _read(name)
    path = str(CODELISTS_DIR / f"{name}.yaml")
    if data.get("from_choices"):
        return _from_choices(str(data["from_choices"]), path)
    if data.get("from_neighbourhoods"):
        return _items(_active_official_names() or _neighbourhood_names(), path)
    return _items(list(data.get("entries") or []), path)


def load_codelists(*, names: list[str] | None = None, using: str = "default") -> dict[str, int]:
    """Store the code lists' entries in ``layers_codelistentry``; return counts per list.

    Entries that left a file are removed; others are inserted or updated.
    """
    from django.db import transaction

    from layers.models import CodeListEntry

    counts: dict[str, int] = {}
    with transaction.atomic(using=using):
        for name in sorted(names or codelist_names()):
            items = file_entries(name)
            manager = CodeListEntry.objects.using(using)
            manager.filter(list_name=name).exclude(code__in=[i.code for i in items]).delete()
            for order, item in enumerate(items):
                manager.update_or_create(
                    list_name=name, code=item.code,
                    defaults={"label_tr": item.label_tr, "label_en": item.label_en,
                              "sort_order": order})
            counts[name] = len(items)
    return counts


def codelist(name: str) -> list[CodeListEntry]:
    """The entries of code list ``name`` (``code``, ``label_tr``, ``label_en``), in order.

    Raises
    ------
    UnknownCodeListError
        No code list has that name.
    """
    from layers.models import CodeListEntry

    if name not in codelist_names():
        raise UnknownCodeListError(name)
    names = _live_names(name)
    if names:
        return [CodeListEntry(list_name=name, code=item, label_tr=item, label_en=item,
                              sort_order=order) for order, item in enumerate(names)]
    return list(CodeListEntry.objects.filter(list_name=name).order_by("sort_order", "code"))


def _live_names(name: str) -> list[str]:
    """The entries of a list filled from neighbourhoods (``from_neighbourhoods``): the
    district's official names; else live, the neighbourhoods stored now (loaded after the
    last sync by ``kentcbs demo`` or the ETL count at once). Empty for any other list, and
    when neither is known: then the synced entries stand."""
    if not _read(name).get("from_neighbourhoods"):
        return []
    return _active_official_names() or _neighbourhood_names()


def all_codelists() -> dict[str, list[CodeListItem]]:
    """Every code list by name, with the entries :func:`codelist` gives, in one query.

    For pages that describe many layers at once (the map page reads about ten lists);
    plain items, not model instances (building 250 of those was a quarter of the page).
    """
    from layers.models import CodeListEntry

    live = {name: names for name in codelist_names() if (names := _live_names(name))}
    lists: dict[str, list[CodeListItem]] = {name: [] for name in codelist_names()}
    rows = (CodeListEntry.objects.filter(list_name__in=sorted(set(lists) - set(live)))
            .order_by("list_name", "sort_order", "code")
            .values_list("list_name", "code", "label_tr", "label_en"))
    for list_name, code, label_tr, label_en in rows:
        lists[list_name].append(CodeListItem(code, label_tr, label_en))
    for name, names in live.items():
        lists[name] = [CodeListItem(item, item, item) for item in names]
    return lists


def codes(name: str) -> frozenset[str]:
    """The allowed codes of code list ``name``."""
    return frozenset(entry.code for entry in codelist(name))


def official_neighbourhood_names(profile: str) -> list[str]:
    """The official neighbourhood names of a municipality's district (the ``mahalle`` list),
    from the national registry (:mod:`layers.official`); empty for an unknown profile.

    Examples
    --------
    >>> names = official_neighbourhood_names("odunpazari")
    >>> len(names), "Arifiye" in names, "Sümer" in names
    (85, True, True)
    """
    from gis_core.errors import KentCBSError
    from gis_core.profiles import get_profile
    from layers.official import district

    try:
        profile_ = get_profile(profile)
        return district(profile_.province, profile_.name).neighbourhood_names
    except KentCBSError:
        return []


def _active_official_names() -> list[str]:
    from django.conf import settings

    return official_neighbourhood_names(settings.KENTCBS_PROFILE)


@functools.cache
def official_neighbourhoods(province: str) -> dict[str, tuple[str, ...]]:
    """``{district: official neighbourhood names}`` of ``province`` (empty when there is
    no such province in the national registry).

    Examples
    --------
    >>> "Batıkent" in official_neighbourhoods("Eskişehir")["Tepebaşı"]
    True
    """
    from layers.official import province_districts

    return {d.name: tuple(d.neighbourhood_names) for d in province_districts(province)}
