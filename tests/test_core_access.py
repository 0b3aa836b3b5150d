"""``user_access``: a user's memberships and their departments' ancestors, in one query."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gis_core.models import Department
from gis_core.selectors import department_lineage, department_parents, user_access
from tests.people import member_of

pytestmark = pytest.mark.django_db


def test_memberships_and_every_ancestor_in_one_query() -> None:
    top = Department.objects.create(code="t-ust", name="Üst birim")
    middle = Department.objects.create(code="t-orta", name="Orta birim", parent=top)
    Department.objects.create(code="t-alt", name="Alt birim", parent=middle)
    Department.objects.create(code="t-kapali", name="Kapatılmış birim", is_active=False)
    user = member_of("t.kisi", ("t-alt", "data_entry"), ("t-orta", "viewer"),
                     ("t-kapali", "data_entry"))

    with CaptureQueriesContext(connection) as queries:
        access = user_access(user)
    assert len(queries) == 1
    # a closed department grants nothing; ancestors come with the granted ones
    assert access.memberships == frozenset({("t-alt", "data_entry"), ("t-orta", "viewer")})
    assert access.roles == frozenset({"data_entry", "viewer"})
    assert access.departments == frozenset({"t-alt", "t-orta", "t-ust"})
    # the same answer as walking the tree in Python (web/reports.py, registers do)
    parents = department_parents()
    assert access.departments == frozenset(
        node for code, _role in access.memberships for node in department_lineage(code, parents))
    assert user_access(user) is access  # cached on the user for the request


def test_a_user_without_memberships_has_no_department() -> None:
    access = user_access(member_of("t.yalniz"))
    assert access.is_authenticated
    assert access.departments == frozenset() and access.memberships == frozenset()
