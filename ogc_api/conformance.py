"""What this server conforms to, and the fixes applied to stock pygeoapi responses.

See ``ogc_api/CONFORMANCE.md`` for each deviation of stock pygeoapi and its fix.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse

#: Only classes that are actually served (stock pygeoapi declares more than it serves).
CONFORMANCE_CLASSES = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    # Features Part 8 (Sorting, draft 24-030): /sortables and sortby on /items
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sortables",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/features-sorting",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]

#: Media types the standards require, per path suffix, for JSON answers.
JSON_TYPES = {
    "queryables": "application/schema+json",
    "schema": "application/schema+json",
}


#: Asset tags that load from the internet (pygeoapi's templates use unpkg/jsDelivr/cdnjs).
EXTERNAL_ASSET = re.compile(
    rb"<script[^>]*\ssrc=[\"']https?://[^>]*>\s*</script>|"
    rb"<link[^>]*\shref=[\"']https?://[^\"']*\.(?:css|js)[^>]*>", re.IGNORECASE)


def strip_external_assets(content: bytes) -> bytes:
    """Remove script and stylesheet tags that point outside the server (offline intranet)."""
    return EXTERNAL_ASSET.sub(b"", content)


def fix_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Correct what stock pygeoapi answers with the wrong media type."""
    kind = response.get("Content-Type", "")
    if response.status_code == 200 and "json" in kind:
        last = request.path.rstrip("/").rsplit("/", 1)[-1]
        if last in JSON_TYPES:
            response["Content-Type"] = JSON_TYPES[last]
    if "text/html" in kind:
        response.content = strip_external_assets(response.content)
    if response.status_code >= 400 and "html" in kind and request.GET.get("f") != "html":
        response["Content-Type"] = "application/json"
    return response
