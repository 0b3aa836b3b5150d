"""A module is one entry in ``KENTCBS_MODULES``: taking it out removes its pages, menu
entries, building panels and layers; a broken ``kentcbs.py`` stops the start-up with one
clear line (``modules.E001``). Each in a fresh process with its own settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT


def kentcbs(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real ``kentcbs`` command with its own settings module."""
    exe = Path(sys.executable).parent / "kentcbs"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env}, cwd=ROOT, check=False)

PROBE = textwrap.dedent("""
    import json, os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
    import django
    django.setup()
    from django.urls import NoReverseMatch, Resolver404, resolve, reverse
    from gis_core import modules
    from layers.registry import registry

    def pages():
        found = []
        for name in ("helpdesk:ticket_list", "helpdesk:statistics", "helpdesk:map"):
            try:
                found.append(reverse(name))
            except NoReverseMatch:
                pass
        try:
            resolve("/helpdesk/")
            found.append("/helpdesk/ resolves")
        except Resolver404:
            pass
        return found

    specs = modules.discover()
    print(json.dumps({
        "modules": [s.code for s in specs],
        "pages": pages(),
        "menu": [item.url_name for s in specs for item in s.menu_items],
        "panels": sum(len(s.building_panels) for s in specs),
        "layers": sorted(code for code in registry.codes() if code.startswith("helpdesk")),
    }))
""")


def probe(modules_setting: str | None) -> dict[str, object]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gis_core.settings"}
    if modules_setting is None:
        env.pop("KENTCBS_MODULES", None)
    else:
        env["KENTCBS_MODULES"] = modules_setting
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_switching_the_helpdesk_off_removes_its_pages_menu_panels_and_layers():
    assert probe(None)["modules"] == ["helpdesk", "netops", "registers"]  # the shipped default
    on = probe("modules.helpdesk")
    assert on["modules"] == ["helpdesk"]
    assert "/helpdesk/ resolves" in on["pages"] and len(on["pages"]) == 4
    assert "helpdesk:ticket_list" in on["menu"] and on["panels"] >= 1
    assert "netops:whois" not in on["menu"]
    assert on["layers"] == ["helpdesk_ticket"]
    off = probe("")
    assert off == {"modules": [], "pages": [], "menu": [], "panels": 0, "layers": []}


def test_a_broken_module_stops_the_start_up_with_a_check_error(tmp_path: Path):
    package = tmp_path / "extra" / "kaput"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "apps.py").write_text(
        "from django.apps import AppConfig\n\n\nclass KaputConfig(AppConfig):\n"
        "    name = 'modules.kaput'\n    label = 'kaput'\n")
    (package / "kentcbs.py").write_text(
        "from gis_core.modules import ModuleSpec\n\n"
        "MODULE = ModuleSpec(code='kaput', title_tr='Bozuk', title_en='Broken',\n"
        "                    urls=undefined_urlconf)\n")
    (tmp_path / "kaput_settings.py").write_text(textwrap.dedent(f"""
        import modules  # the module package gets the extra folder, as if shipped in it
        modules.__path__.append({str(tmp_path / "extra")!r})
        from gis_core.settings import *  # noqa: F403
    """))
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
           "KENTCBS_MODULES": "modules.helpdesk,modules.kaput"}
    result = kentcbs("check", env={**env, "DJANGO_SETTINGS_MODULE": "kaput_settings"})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "[modules.E001]" in lines[0] and "modules.kaput.kentcbs" in lines[0]
    assert "NameError" in lines[0] and "undefined_urlconf" in lines[0]
    assert "kaput/kentcbs.py" in lines[0]
    # the same folder with a sound declaration starts
    (package / "kentcbs.py").write_text(
        "from gis_core.modules import ModuleSpec\n\n"
        "MODULE = ModuleSpec(code='kaput', title_tr='Sağlam', title_en='Sound')\n")
    result = kentcbs("check", env={**env, "DJANGO_SETTINGS_MODULE": "kaput_settings"})
    assert result.returncode == 0, result.stdout + result.stderr
