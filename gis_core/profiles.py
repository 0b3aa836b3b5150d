"""Municipality profiles shipped with KentCBS (one municipality per deployment).

The storage SRID of every geometry is the municipality's ITRF96/TUREF 3-degree
TM zone, so areas and lengths are metric and exact without a transform. It is
fixed when the database is created (migrations read ``settings.KENTCBS_SRID``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MunicipalityProfile:
    code: str
    name: str
    province: str
    srid: int
    #: Approximate centre (lon, lat in WGS84), for demo data and the map's first view.
    centre: tuple[float, float]


PROFILES: dict[str, MunicipalityProfile] = {
    "odunpazari": MunicipalityProfile("odunpazari", "Odunpazarı", "Eskişehir", 5254,
                                      (30.5206, 39.7667)),
    "efeler": MunicipalityProfile("efeler", "Efeler", "Aydın", 5253, (27.8456, 37.8444)),
}


def get_profile(code: str) -> MunicipalityProfile:
    try:
        return PROFILES[code]
    except KeyError:
        from gis_core.errors import KentCBSError

        raise KentCBSError(
            "UNKNOWN_PROFILE",
            "Unknown municipality profile '{profile}'. Choose one of: {choices}.",
            profile=code, choices=", ".join(PROFILES),
        ) from None
