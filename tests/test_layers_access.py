"""Who may read, edit and see personal fields of a layer (layers.access), with real users,
departments and memberships in PostGIS."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from layers.access import (
    can_edit,
    can_read,
    can_see_personal,
    editable_layers,
    readable_layers,
    visible_fields,
)
from layers.registry import registry
from tests.people import member_of as member

pytestmark = pytest.mark.django_db


def layer(code: str):
    return registry.get(code)


def test_anonymous_reads_public_layers_only() -> None:
    anonymous = AnonymousUser()
    assert [item.code for item in readable_layers(anonymous)] == ["mahalle", "yesil_alan", "yol"]
    assert can_read(None, layer("yol"))
    assert not can_read(anonymous, layer("bina"))
    assert not can_edit(anonymous, layer("yol"))
    assert editable_layers(anonymous) == []


def test_authenticated_user_without_department_reads_public_layers_only() -> None:
    user = member("misafir")
    assert {item.code for item in readable_layers(user)} == {"mahalle", "yesil_alan", "yol"}
    assert not can_edit(user, layer("yesil_alan"))


def test_department_member_reads_and_edits_its_layers() -> None:
    imar = member("imar", ("imar_sehircilik", "data_entry"))
    assert can_read(imar, layer("bina")) and can_edit(imar, layer("bina"))
    assert can_edit(imar, layer("numarataj"))
    assert can_edit(imar, layer("yol"))              # listed in yol's access.edit
    assert can_read(imar, layer("aydinlatma")) and not can_edit(imar, layer("aydinlatma"))
    assert not can_read(imar, layer("bt_varlik"))
    assert not can_read(imar, layer("ag_baglanti"))
    park = member("park", ("park_bahceler", "data_entry"))
    assert can_edit(park, layer("yesil_alan")) and not can_read(park, layer("bina"))


def test_unit_members_inherit_their_directorate() -> None:
    technician = member("teknisyen", ("teknik_destek", "technician"))
    assert can_read(technician, layer("bt_varlik"))      # owner bilgi_islem is an ancestor
    assert can_see_personal(technician, layer("bt_varlik"))
    assert can_read(technician, layer("ag_baglanti"))
    assert not can_edit(technician, layer("ag_baglanti"))  # edit: ag_yonetimi, network_admin
    network = member("ag", ("ag_yonetimi", "network_admin"))
    assert can_edit(network, layer("ag_baglanti"))


def test_role_grants_read_but_not_personal_fields() -> None:
    manager = member("mudur", ("mali_hizmetler", "manager"))
    bt = layer("bt_varlik")
    assert can_read(manager, bt)
    assert not can_see_personal(manager, bt)
    assert "zimmetli_kisi" not in visible_fields(manager, bt)
    assert "demirbas_no" in visible_fields(manager, bt)
    assert not can_edit(manager, bt)
    assert not can_read(manager, layer("ag_baglanti"))


def test_gis_admin_of_the_it_directorate_reads_everything() -> None:
    admin = member("cbsci", ("cbs", "gis_admin"))
    assert {item.code for item in readable_layers(admin)} == set(registry.codes())
    assert not can_edit(admin, layer("bina"))
    elsewhere = member("zabita_admin", ("zabita", "gis_admin"))
    assert not can_read(elsewhere, layer("ag_baglanti"))


def test_superuser_may_do_everything() -> None:
    root = member("root", superuser=True)
    for item in registry.all():
        assert can_read(root, item) and can_edit(root, item) and can_see_personal(root, item)
    assert visible_fields(root, layer("bt_varlik")) == layer("bt_varlik").field_names
