"""What this server conforms to, and the fixes applied to stock pygeoapi responses.

See ``ogc_api/CONFORMANCE.md`` for each deviation of stock pygeoapi and its fix.
"""

from __future__ import annotations

import json
import re
from typing import Any

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


#: pygeoapi's page templates name CDN copies of their scripts and stylesheets; these are
#: served by the app itself (django-leaflet's Leaflet and Leaflet.draw, npm packages under
#: /static/vendor/, see package.json), so the maps work on an intranet.
LOCAL_ASSETS: list[tuple[re.Pattern[bytes], str]] = [
    (re.compile(rb"https?://unpkg\.com/leaflet@[^/\"']+/dist/leaflet\.(css|js)"),
     "leaflet/leaflet.{0}"),
    (re.compile(rb"https?://unpkg\.com/leaflet\.markercluster(?:@[^/\"']+)?/dist/"
                rb"(MarkerCluster\.css|MarkerCluster\.Default\.css|leaflet\.markercluster)"
                rb"(?:-src)?(\.js)?"),
     "vendor/leaflet.markercluster/{0}{1}"),
    (re.compile(rb"https?://unpkg\.com/leaflet-draw@[^/\"']+/dist/leaflet\.draw\.(css|js)"),
     "leaflet/draw/leaflet.draw.{0}"),
    (re.compile(rb"https?://unpkg\.com/bootstrap@[^/\"']+/dist/css/bootstrap\.min\.css"),
     "vendor/bootstrap/bootstrap.min.css"),
]

#: Asset tags that still load from another host after that (html5shiv, web fonts, a
#: Leaflet plugin for OGC API – Maps, which is not served here): removed.
EXTERNAL_ASSET = re.compile(
    rb"<script[^>]*\ssrc=[\"'](https?://[^\"']*)[^>]*>\s*</script>|"
    rb"<link[^>]*\shref=[\"'](https?://[^\"']*)[^>]*>|"
    rb"<img[^>]*\ssrc=[\"'](https?://[^\"']*)[^>]*>", re.IGNORECASE)


def localise_assets(content: bytes, *, origin: str) -> bytes:
    """Point pygeoapi's CDN asset URLs at the app's copies; drop any other external asset.

    ``origin``: this server's ``scheme://host[:port]/``; tags pointing there stay.
    """
    from django.conf import settings

    static = settings.STATIC_URL
    for pattern, target in LOCAL_ASSETS:
        def local(match: re.Match[bytes], target: str = target) -> bytes:
            parts = [(group or b"").decode() for group in match.groups()]
            return (static + target.format(*parts)).encode()

        content = pattern.sub(local, content)
    own = origin.encode()

    def keep_own(match: re.Match[bytes]) -> bytes:
        url = next(group for group in match.groups() if group)
        return match.group(0) if url.startswith(own) else b""

    return EXTERNAL_ASSET.sub(keep_own, content)


#: Link media types this server does not serve (pygeoapi advertises JSON-LD and CSV).
UNSERVED_LINK_TYPES = ("application/ld+json", "text/csv")


def drop_unserved_links(document: Any) -> Any:
    """Remove links to encodings that are not served (``f=jsonld``, ``f=csv`` answer 400)."""
    if isinstance(document, list):
        return [drop_unserved_links(item) for item in document]
    if not isinstance(document, dict):
        return document
    out = {}
    for key, value in document.items():
        if key == "links" and isinstance(value, list):
            value = [link for link in value if not (
                isinstance(link, dict)
                and str(link.get("type", "")).startswith(UNSERVED_LINK_TYPES))]
        out[key] = drop_unserved_links(value)
    return out


#: A list entry of pygeoapi's pages (collection, item) linking an encoding that is not served.
UNSERVED_LINK_ITEM = re.compile(
    rb"<li>(?:(?!</li>).)*?\shref=\"[^\"]*[?&](?:amp;)?f=(?:jsonld|csv)\"(?:(?!</li>).)*</li>",
    re.DOTALL)


#: Every /ogc/ HTML page may load only from this server. Bundled code still names other
#: hosts (ReDoc's sidebar shows a logo from its vendor's CDN): the browser refuses them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'self'")


def fix_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Correct what stock pygeoapi answers with the wrong media type."""
    kind = response.get("Content-Type", "")
    if response.status_code == 200 and "json" in kind:
        last = request.path.rstrip("/").rsplit("/", 1)[-1]
        if last in JSON_TYPES:
            response["Content-Type"] = JSON_TYPES[last]
    if "text/html" in kind:
        response.content = UNSERVED_LINK_ITEM.sub(b"", localise_assets(
            response.content, origin=request.build_absolute_uri("/")))
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    elif response.status_code == 200 and "json" in kind and b'"links"' in response.content:
        document = drop_unserved_links(json.loads(response.content))
        response.content = json.dumps(document, ensure_ascii=False).encode("utf-8")
    if response.status_code >= 400 and "html" in kind and request.GET.get("f") != "html":
        response["Content-Type"] = "application/json"
    return response
