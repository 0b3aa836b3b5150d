"""The systemd unit for ``kentcbs netops monitor`` in modules/netops/README.md is a unit
systemd accepts (``systemd-analyze verify``) and its command line one ``kentcbs`` accepts."""

from __future__ import annotations

import getpass
import grp
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

README = ROOT / "modules" / "netops" / "README.md"


def _unit() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"```ini\n(\[Unit\].*?)```", text, re.S)
    assert found, "no systemd unit in modules/netops/README.md"
    return found.group(1)


def test_the_unit_runs_the_monitor_with_options_the_command_accepts() -> None:
    from modules.netops.management.commands.netops import Command

    exec_start = re.search(r"^ExecStart=(.+)$", _unit(), re.M)
    assert exec_start
    program, *args = shlex.split(exec_start.group(1))
    assert program == "/opt/kentcbs/.venv/bin/kentcbs" and args[:2] == ["netops", "monitor"]
    options = Command().create_parser("kentcbs", "netops").parse_args(args[1:])
    assert (options.action, options.every, options.timeout) == ("monitor", 60, 1.0)
    assert re.search(r"^Restart=always$", _unit(), re.M)


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (Debian package systemd) is needed to check the unit"
    user = getpass.getuser()
    group = grp.getgrgid(os.getgid()).gr_name
    here = _unit().replace("/opt/kentcbs/.venv/bin/kentcbs", str(Path(sys.executable).parent /
                                                                 "kentcbs"))
    here = here.replace("/opt/kentcbs", str(ROOT))
    here = here.replace("User=kentcbs", f"User={user}").replace("Group=kentcbs", f"Group={group}")
    unit = tmp_path / "kentcbs-netops-monitor.service"
    unit.write_text(here, encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and "kentcbs-netops-monitor" not in done.stderr, done.stderr
    broken = tmp_path / "broken" / unit.name  # the check can fail: a unit systemd rejects
    broken.parent.mkdir()
    broken.write_text(here.replace("Restart=always", "Restart=sometimes").replace(
        str(Path(sys.executable).parent / "kentcbs"), "kentcbs-nowhere"), encoding="utf-8")
    refused = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True,
                             timeout=60, check=False)
    assert refused.returncode != 0 and "kentcbs-nowhere" in refused.stderr
