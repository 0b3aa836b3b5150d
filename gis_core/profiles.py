"""The municipality of this deployment, and the demo profiles (data, not code paths).

A deployment is one municipality. ``kentcbs municipality init`` sets it up from its own
boundary and writes ``$KENTCBS_HOME/municipality.json`` (:mod:`gis_core.deployment`);
without that file the deployment is one of the demo profiles of
``gis_core/data/demo_profiles.yaml`` (``KENTCBS_PROFILE``, default ``odunpazari``).

The storage SRID of every geometry is the municipality's ITRF96/TUREF 3-degree TM zone
(:func:`tm_zone_srid`), so areas and lengths are metric and exact without a transform.
It is fixed when the database is created (migrations read ``settings.KENTCBS_SRID``).

No Django import at module level: ``gis_core.settings`` uses this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_PROFILES_FILE = Path(__file__).resolve().parent / "data" / "demo_profiles.yaml"

#: ITRF96/TUREF 3-degree TM zones: EPSG code by central meridian (bands of ±1.5°).
TM_ZONES = {27: 5253, 30: 5254, 33: 5255, 36: 5256, 39: 5257, 42: 5258, 45: 5259}


def tm_zone_srid(lon: float) -> int | None:
    """The TUREF TM zone (EPSG code) whose band holds longitude ``lon``; ``None`` outside
    25.5–46.5° E. A longitude on a band's edge (28.5°) goes to the eastern zone.

    Examples
    --------
    >>> tm_zone_srid(30.52), tm_zone_srid(27.85), tm_zone_srid(43.38), tm_zone_srid(28.5)
    (5254, 5253, 5258, 5254)
    >>> tm_zone_srid(20.0) is None
    True
    """
    for meridian, srid in TM_ZONES.items():
        if meridian - 1.5 <= lon < meridian + 1.5:
            return srid
    return None


@dataclass(frozen=True)
class MunicipalityProfile:
    code: str
    #: The district's name as the national registry spells it.
    name: str
    province: str
    srid: int
    #: Centre (lon, lat in WGS84), for demo data and the map's first view.
    centre: tuple[float, float]


@functools.cache
def demo_profiles() -> dict[str, MunicipalityProfile]:
    """The demo profiles of ``gis_core/data/demo_profiles.yaml``."""
    import yaml

    data = yaml.safe_load(DEMO_PROFILES_FILE.read_text(encoding="utf-8")) or {}
    profiles = {}
    for code, row in data.items():
        lon, lat = (float(v) for v in row["centre"])
        srid = tm_zone_srid(lon)
        assert srid is not None, f"{DEMO_PROFILES_FILE}: {code} lies outside the TM zones"
        profiles[str(code)] = MunicipalityProfile(str(code), str(row["district"]),
                                                  str(row["province"]), srid, (lon, lat))
    return profiles


def profile_from_file(data: dict[str, Any]) -> MunicipalityProfile:
    """The profile recorded in ``municipality.json`` (see :mod:`gis_core.deployment`)."""
    lon, lat = (float(v) for v in data["centre"])
    return MunicipalityProfile(str(data["code"]), str(data["name"]), str(data["province"]),
                               int(data["srid"]), (lon, lat))


def get_profile(code: str) -> MunicipalityProfile:
    """The municipality ``code``: this deployment's (``municipality.json``) or a demo
    profile.

    Raises
    ------
    KentCBSError
        ``UNKNOWN_PROFILE`` for any other code.
    """
    from django.conf import settings

    own = getattr(settings, "KENTCBS_MUNICIPALITY", None)
    if own and own.get("code") == code:
        return profile_from_file(own)
    try:
        return demo_profiles()[code]
    except KeyError:
        from gis_core.errors import KentCBSError

        raise KentCBSError(
            "UNKNOWN_PROFILE",
            "Unknown municipality profile '{profile}'. Choose one of: {choices}, or set up "
            "the municipality with 'kentcbs municipality init'.",
            profile=code, choices=", ".join(demo_profiles()),
        ) from None


def __getattr__(name: str) -> Any:
    # ``PROFILES`` (the demo profiles by code) was a module constant; read lazily now.
    if name == "PROFILES":
        return demo_profiles()
    raise AttributeError(name)
