"""Hostile parameters on every page: never a server error.

Every URL pattern of the project is enumerated from Django's resolver; each path
parameter and a list of query (and form) parameters get hostile values (letters
where an id is expected, numbers past any integer type, SQL, ``../``, non-ASCII
digits and letters, a NUL byte), as anonymous and as a few signed-in roles. A
malformed id is a 400 or a 404 with a Turkish message; nothing answers 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.people import member, member_of

pytestmark = pytest.mark.django_db

HOSTILE = [
    "abc",
    "99999999999999999999999999999",
    "-1",
    "1.5",
    "' OR 1=1; DROP TABLE cbs.bina; --",
    "../../../../etc/passwd",
    "şğüöçıİ",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() and int() accept them
    "²",  # a digit to str.isdigit(), not to int()
    "1\x00",
    "",
    "999.999.999.999",  # looks like an IPv4 address to a naive check
    "١.٢.٣.٤",
]
#: Digits only: what an ``<int:...>`` converter lets through.
HOSTILE_DIGITS = ["0", "99999999999999999999999999999", "2147483648", "9223372036854775808"]
#: Query and form parameters the views read (and some they do not).
PARAMS = ["building", "room", "asset", "status", "by", "from", "to", "page", "job", "layer",
          "layers", "department", "lon", "lat", "q", "f", "limit", "bbox", "year", "pk", "id",
          "next", "technician", "action", "cost", "minutes", "crs", "ticket", "o", "p"]
#: Paths that change the session instead of showing something.
SKIP = {"accounts/logout/", "i18n/setlang/"}
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def _is_admin(route: str) -> bool:
    return route.startswith("admin/")


def _routes() -> list[str]:
    routes = []
    for route in _patterns():
        if route in SKIP or route.startswith("^") or "(?P" in route:
            continue  # regex routes: admin's app index and the static-file view
        routes.append(route)
    return routes


def _fill(route: str, value: str) -> str | None:
    """``route`` with each parameter set to ``value`` (``None`` when no converter takes it)."""
    def one(match: re.Match[str]) -> str:
        converter = match.group(1) or "str"
        if converter == "int":
            return value if value.isascii() and value.isdigit() else "\0"
        if converter == "slug":
            return value if re.fullmatch(r"[-a-zA-Z0-9_]+", value) else "\0"
        if converter == "str" and ("/" in value or not value):
            return "\0"
        return quote(value, safe="/")

    path = "/" + CONVERTER.sub(one, route)
    return None if "\0" in path else path


def _clients() -> dict[str, Client]:
    superuser = member_of("fuzz.super", superuser=True)
    superuser.is_staff = True
    superuser.save()
    gis = member_of("fuzz.cbs", ("cbs", "gis_admin"))
    gis.is_staff = True
    gis.save()
    users = {"viewer": member("fuzz.viewer", "park_bahceler", "viewer"),
             "technician": member("fuzz.tech", "bilgi_islem", "technician"),
             "gis_admin": gis, "superuser": superuser}
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role, user in users.items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients[role] = client
    return clients


def _check(failures: list[str], role: str, method: str, url: str, response) -> None:
    if response.status_code >= 500:
        failures.append(f"{role} {method} {url} -> {response.status_code}")
    elif response.status_code == 400 and "text/html" in response.get("Content-Type", ""):
        # a 400 page of KentCBS's, Turkish first (not Django's bare "Bad Request")
        if "Geçersiz istek" not in response.content.decode():
            failures.append(f"{role} {method} {url} -> 400 without the Turkish page")


def test_no_server_error_for_hostile_parameters(settings) -> None:
    settings.DEBUG = False
    clients = _clients()
    routes = _routes()
    assert any(r.startswith("helpdesk/") for r in routes)  # modules are enumerated too
    failures: list[str] = []
    for route in routes:
        has_params = bool(CONVERTER.search(route))
        paths = {_fill(route, v) for v in (HOSTILE + HOSTILE_DIGITS if has_params else ["x"])}
        paths.discard(None)
        for role, client in clients.items():
            if _is_admin(route) and role not in {"superuser", "anonymous"}:
                continue
            for path in sorted(p for p in paths if p):
                response = client.get(path)
                _check(failures, role, "GET", path, response)
                if _is_admin(route):
                    continue
                for value in HOSTILE:
                    query = urlencode({name: value for name in PARAMS})
                    _check(failures, role, "GET", f"{path}?{query}",
                           client.get(f"{path}?{query}"))
                    if route.startswith("ogc"):
                        continue  # GET and HEAD only (405)
                    _check(failures, role, "POST", f"{path} {value!r}",
                           client.post(path, {name: value for name in PARAMS}))
    assert failures == [], "\n".join(failures[:60])


def test_each_parameter_alone_on_the_module_and_web_pages(settings) -> None:
    """One parameter at a time: an early 400 for one must not hide a 500 from another."""
    settings.DEBUG = False
    client = _clients()["superuser"]
    failures: list[str] = []
    for route in _routes():
        if _is_admin(route) or route.startswith("ogc") or CONVERTER.search(route):
            continue
        for name in PARAMS:
            for value in ("abc", "99999999999999999999999999999", "²", "1\x00", "şğü"):
                url = f"/{route}?{urlencode({name: value})}"
                _check(failures, "superuser", "GET", url, client.get(url))
    assert failures == [], "\n".join(failures[:60])


def test_malformed_building_id_on_the_new_ticket_page() -> None:
    """The reported case: /helpdesk/new/?building=abc answered 500."""
    client = Client()
    client.force_login(member("talep.acan", "park_bahceler"))
    for value in ("abc", "99999999999999999999999999999", "²", "1\x00"):
        response = client.get("/helpdesk/new/", {"building": value})
        assert response.status_code in (400, 404), value
        assert "Geçersiz" in response.content.decode() or "bulunamadı" in (
            response.content.decode())
