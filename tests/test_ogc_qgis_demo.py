"""QGIS reads the whole demo city (issue 17 §4: "QGIS reads every collection with features").

The demo (``gis_core.demo.load_demo``, its modules included) is loaded into the test
database and served by the live server; QGIS 3.22 (Debian's PyQGIS on its own Python, in
a subprocess, offscreen) opens EVERY collection that has rows in the database through
its OAPIF provider, anonymously and as demo accounts with a token in QGIS's auth
database, and reads every feature. Each count must equal the database's count for that
caller: the layer's rows under its row rule (``layers.access.row_condition``, the same
one the module's pages use), or no valid layer at all when the caller may not read it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from layers import access
from layers.registry import registry
from ogc_api.services import create_token
from tests.test_ogc_qgis import SYSTEM_PYTHON

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

#: Who reads: anonymous, a GIS administrator (every layer, every row), a technician (the
#: helpdesk tickets of his unit only) and a manager outside the IT directorate.
ACCOUNTS = ["cbs.admin", "teknik.destek", "mali.mudur"]

SCRIPT = r'''
import json, sys
from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsVectorLayer

url, codes, accounts = sys.argv[1], sys.argv[2].split(","), json.loads(sys.argv[3])
app = QgsApplication([], False)
app.initQgis()
auth = QgsApplication.authManager()
assert auth.setMasterPassword("kentcbs-test-master", True)
configs = {"anonymous": None}
for user, token in accounts.items():
    config = QgsAuthMethodConfig()
    config.setName(user)
    config.setMethod("Basic")
    config.setConfig("username", user)
    config.setConfig("password", token)
    assert auth.storeAuthenticationConfig(config)
    configs[user] = config.id()
out = {}
for who, authcfg in configs.items():
    for code in codes:
        source = f"url='{url}' typename='{code}'"
        if authcfg:
            source += f" authcfg='{authcfg}'"
        layer = QgsVectorLayer(source, code, "OAPIF")
        out[f"{code} {who}"] = {
            "valid": layer.isValid(),
            "count": sum(1 for _ in layer.getFeatures()) if layer.isValid() else None}
print("RESULT " + json.dumps(out), flush=True)
import os
os._exit(0)
'''


def database_count(user: object, layer: object) -> int | None:
    """Rows of ``layer`` that ``user`` reads (``None``: may not read the layer)."""
    if not access.can_read(user, layer):  # type: ignore[arg-type]
        return None
    condition = access.row_condition(user, layer)  # type: ignore[arg-type]
    where = "" if condition is access.ALL_ROWS else f" WHERE {condition}"
    table = layer.backing.table  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}{where}")
        return int(cursor.fetchone()[0])


def test_qgis_reads_every_collection_of_the_demo_city_as_each_caller(live_server,
                                                                       tmp_path: Path) -> None:
    from gis_core.demo import load_demo
    from ogc_api.config import forget_extents, table_exists

    assert os.path.exists(SYSTEM_PYTHON), "Debian's python3 with python3-qgis is required"
    load_demo(profile="odunpazari")
    forget_extents()
    layers = [layer for layer in registry.all() if table_exists(layer)]
    with connection.cursor() as cursor:
        filled = []
        for layer in layers:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {layer.backing.table})")
            if cursor.fetchone()[0]:
                filled.append(layer)
    # The city's layers, its rooms and assets, and the modules' layers are all there.
    assert {"bina", "yol", "numarataj", "aydinlatma", "yesil_alan", "mahalle", "oda",
            "bt_varlik", "bina_hizmet", "helpdesk_ticket"} <= {layer.code for layer in filled}

    User = get_user_model()
    tokens = {name: create_token(username=name, name="QGIS")[1] for name in ACCOUNTS}
    callers = {"anonymous": AnonymousUser(),
               **{name: User.objects.get(username=name) for name in ACCOUNTS}}
    expected = {f"{layer.code} {who}": database_count(user, layer)
                for layer in filled for who, user in callers.items()}

    script = tmp_path / "demo_city.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path), "QGIS_AUTH_DB_DIR_PATH": str(tmp_path),
           "QGIS_CUSTOM_CONFIG_PATH": str(tmp_path)}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    result = subprocess.run(
        [SYSTEM_PYTHON, str(script), f"{live_server.url}/ogc",
         ",".join(layer.code for layer in filled), json.dumps(tokens)],
        capture_output=True, text=True, env=env, timeout=1800, check=False)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert result.returncode == 0 and lines, (result.stdout[-2000:], result.stderr[-3000:])
    out = json.loads(lines[0].removeprefix("RESULT "))

    got = {key: (value["count"] if value["valid"] else None) for key, value in out.items()}
    assert got == expected
    # The row rule shows: the technician reads fewer tickets than the GIS administrator.
    assert expected["helpdesk_ticket teknik.destek"] is not None
    assert 0 < expected["helpdesk_ticket teknik.destek"] < expected["helpdesk_ticket cbs.admin"]
    assert all(expected[f"yol {who}"] for who in callers)
