"""KentCBS's own 400, 403, 404 and 500 pages, with DEBUG off.

Each extends the one base template (its header and sign-out), is Turkish unless
the user chose English, and has a way back. The 500 page needs neither the
database nor a signed-in user.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path

import gis_core.urls
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


# A URLconf for these tests: the project's, plus two views that fail on purpose.
urlpatterns = [path("test-errors/forbidden/", _forbidden),
               path("test-errors/broken/", _broken),
               path("", include(gis_core.urls.urlpatterns))]
handler400 = gis_core.urls.handler400
handler403 = gis_core.urls.handler403
handler404 = gis_core.urls.handler404
handler500 = gis_core.urls.handler500


@pytest.fixture
def pages(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def _frame(html: str) -> None:
    assert '<header id="top">' in html  # the one base template
    assert 'id="error-home"' in html and 'href="/"' in html  # a way back
    assert "Django" not in html


def test_404_page(pages, client: Client) -> None:
    response = client.get("/yok/boyle/bir/sayfa/")
    assert response.status_code == 404
    html = response.content.decode()
    _frame(html)
    assert "Sayfa bulunamadı" in html and '<html lang="tr">' in html
    assert "Not Found" not in html
    client.cookies["django_language"] = "en"
    english = client.get("/yok/").content.decode()
    assert "Page not found" in english and '<html lang="en">' in english


def test_403_page_for_a_signed_in_user(pages) -> None:
    client = signed_in(member("yasak", "park_bahceler"))
    response = client.get("/test-errors/forbidden/")
    assert response.status_code == 403
    html = response.content.decode()
    _frame(html)
    assert "Erişim engellendi" in html and "yasak" in html  # the signed-in frame
    assert 'id="error-sign-in"' in html
    assert "403 Forbidden" not in html


def test_400_page_for_a_malformed_id(pages) -> None:
    client = signed_in(member("hatali", "park_bahceler"))
    response = client.get("/helpdesk/new/", {"building": "abc"})
    assert response.status_code == 400
    html = response.content.decode()
    _frame(html)
    assert "Geçersiz istek" in html and "building" in html and "kayıt numarası" in html


def test_500_page(pages) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/test-errors/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    _frame(html)
    assert "Sunucu hatası" in html and "Server Error (500)" not in html
    assert response["X-Request-ID"] in html  # the reference to quote to the IT directorate


def test_500_page_needs_no_database_and_no_user(pages, django_assert_num_queries) -> None:
    from web.views_errors import server_error

    class Untouchable:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the 500 page touched request.{name}")

    request = RequestFactory().get("/bir/sayfa/")
    request.user = Untouchable()  # type: ignore[assignment]
    request.session = Untouchable()  # type: ignore[assignment]
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Sunucu hatası" in html and 'id="error-home"' in html


def test_500_page_when_even_the_template_fails(pages, settings) -> None:
    from web.views_errors import server_error

    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [], "APP_DIRS": False}]
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Sunucu hatası" in response.content.decode()


def test_ogc_errors_stay_json(pages, client: Client) -> None:
    response = client.get("/ogc/yok/boyle/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "NotFound"
