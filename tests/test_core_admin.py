"""Every core admin page opens, and none loads anything from outside the app."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from gis_core.demo import load_demo

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture
def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", password="x-Test-12345")
    client = Client()
    client.force_login(user)
    return client


def test_every_core_admin_page_opens_offline(superuser_client: Client) -> None:
    load_demo(profile="odunpazari")
    models = [m for m in admin.site._registry if m._meta.app_label == "gis_core"]
    assert len(models) == 13
    for model in models:
        meta = model._meta
        pages = [reverse(f"admin:gis_core_{meta.model_name}_changelist")]
        obj = model.objects.order_by("pk").first()
        assert obj is not None, meta.model_name
        pages.append(reverse(f"admin:gis_core_{meta.model_name}_change", args=[obj.pk]))
        if admin.site._registry[model].has_add_permission(_request(superuser_client)):
            pages.append(reverse(f"admin:gis_core_{meta.model_name}_add"))
        if hasattr(model, "history"):
            pages.append(reverse(f"admin:gis_core_{meta.model_name}_history", args=[obj.pk]))
        for page in pages:
            response = superuser_client.get(page)
            assert response.status_code == 200, page
            html = response.content.decode()
            assert not EXTERNAL.search(html), f"{page} loads from outside the app"


def _request(client: Client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="root")
    return request


def test_geometry_is_edited_as_text_and_saved_through_the_rules(
        superuser_client: Client) -> None:
    load_demo(profile="odunpazari")
    from gis_core.models import Asset

    asset = Asset.objects.filter(location__isnull=False, status="in_service").first()
    url = reverse("admin:gis_core_asset_change", args=[asset.pk])
    html = superuser_client.get(url).content.decode()
    assert 'name="location"' in html and "<textarea" in html
    # Moving the asset outside its building is refused by the database rule.
    response = superuser_client.post(url, {
        **_form_data(asset), "location": "SRID=5254;POINT(0 0)",
    })
    assert response.status_code == 200  # the form again, with the rule's message
    assert "ASSET_OUTSIDE_BUILDING" not in response.content.decode()  # no raw code, a sentence
    assert "outside its building" in response.content.decode()
    asset.refresh_from_db()
    assert asset.location.x != 0


def _form_data(asset) -> dict[str, str]:
    data = {}
    for field in asset._meta.concrete_fields:
        if field.name in {"id", "status"}:
            continue
        value = getattr(asset, field.attname)
        data[field.attname.removesuffix("_id") if field.is_relation else field.name] = (
            "" if value is None else str(value.ewkt if hasattr(value, "ewkt") else value))
    data.update({"transitions-TOTAL_FORMS": "0", "transitions-INITIAL_FORMS": "0"})
    return data


def test_an_admin_edit_is_recorded_with_its_user_source_and_request(
        superuser_client: Client) -> None:
    load_demo(profile="odunpazari")
    from gis_core.models import Asset

    asset = Asset.objects.filter(location__isnull=False, status="in_service").first()
    url = reverse("admin:gis_core_asset_change", args=[asset.pk])
    response = superuser_client.post(url, {**_form_data(asset), "model": "EliteDesk 800 G9"},
                                     HTTP_X_REQUEST_ID="admin-edit-1")
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["X-Request-ID"] == "admin-edit-1"
    # The success message survives the redirect (gis_core.middleware.LazyMessageMiddleware).
    page = superuser_client.get(response["Location"]).content.decode()
    assert 'class="success"' in page and str(asset.inventory_number) in page
    record = asset.history.latest()
    assert record.model == "EliteDesk 800 G9"
    assert record.history_user.username == "root"
    assert (record.history_source, record.history_request_id) == ("web", "admin-edit-1")
