"""The start page lists only what the caller may read, and works offline."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gis_core.models import Department, Membership

pytestmark = pytest.mark.django_db


def test_anonymous_sees_public_layers_only() -> None:
    html = Client().get("/").content.decode()
    assert "/ogc/collections/yol" in html
    assert "/ogc/collections/bt_varlik" not in html
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)


def test_sign_in_shows_the_layers_and_modules_of_the_department() -> None:
    user = get_user_model().objects.create_user("tekin", password="x-Test-12345")
    Membership.objects.create(user=user, department=Department.objects.get(code="teknik_destek"),
                              role="technician")
    client = Client()
    response = client.post("/accounts/login/", {"username": "tekin",
                                                "password": "x-Test-12345"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert "/ogc/collections/bt_varlik" in html
    assert "/helpdesk/" in html
