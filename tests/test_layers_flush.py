"""After a transactional test's flush, code lists and layer state are still there."""

from __future__ import annotations

import pytest
from django.db import connection

from layers.codelists import codes


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_flushes_the_database() -> None:
    assert "Cadde" in codes("yol_tipi")


@pytest.mark.django_db(transaction=True)
def test_code_lists_and_layer_state_survive_the_flush() -> None:
    assert "Cadde" in codes("yol_tipi")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM layers_layerstate WHERE code = 'yol'")
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT to_regclass('cbs.yol') IS NOT NULL")
        assert cursor.fetchone() == (True,)
