"""System checks of the web viewer: the front-end packages it serves must be installed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

#: Files the map viewer loads, relative to a STATICFILES_DIRS prefix, by package.
REQUIRED_ASSETS = {
    "vendor/leaflet.vectorgrid": "Leaflet.VectorGrid.bundled.min.js",
    "vendor/proj4": "proj4.js",
    "vendor/swagger-ui-dist": "swagger-ui-bundle.js",
    "vendor/redoc": "redoc.standalone.js",
    "vendor/leaflet.markercluster": "leaflet.markercluster.js",
    "vendor/bootstrap": "bootstrap.min.css",
}


@register()
def frontend_packages(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """web.E001: an npm package listed in package.json is not installed."""
    errors = []
    dirs = {prefix: path for prefix, path in
            (entry if isinstance(entry, tuple) else ("", entry)
             for entry in settings.STATICFILES_DIRS)}
    for prefix, name in REQUIRED_ASSETS.items():
        base = dirs.get(prefix)
        if base is None or not (base / name).is_file():
            errors.append(Error(
                f"Ön yüz paketi eksik: {prefix}/{name} / Front-end package missing: "
                f"{prefix}/{name}",
                hint="Run ./bootstrap.sh (it runs `npm ci`), or `npm ci --ignore-scripts` in "
                     "the project folder. / ./bootstrap.sh komutunu çalıştırın.",
                id="web.E001"))
    return errors
