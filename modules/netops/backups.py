"""The backup register: what must be backed up and how often, the jobs' results, restore
drills, failed and overdue backups alerted like outages; and network device configuration
versions with a line diff between any two."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from gis_core.errors import bilingual
from modules.netops.choices import POLICY_PERIOD_HOURS, RunStatus
from modules.netops.errors import NetopsError
from modules.netops.models import BackupAlert, BackupRun, BackupTarget, DeviceConfig

#: A job may be this much later than its period before it counts as overdue.
TOLERANCE = 1.5


def _target(code: str) -> BackupTarget:
    try:
        return BackupTarget.objects.get(code=code, active=True)
    except BackupTarget.DoesNotExist:
        raise NetopsError("NETOPS_UNKNOWN_SYSTEM",
                          "'{system}' is not in the backup register. Add it in the administration "
                          "pages (Backup register) first.", system=code[:60]) from None


def report_run(*, code: str, ok: bool, actor: str, at: dt.datetime | None = None,
               size_bytes: int | None = None, detail: str = "") -> BackupRun:
    """A backup job's result; a failure opens an alert, a good run closes any."""
    target = _target(code)
    at = at or timezone.now()
    with transaction.atomic():
        run = BackupRun.objects.create(target=target, at=at, size_bytes=size_bytes,
                                       status=RunStatus.OK if ok else RunStatus.FAILED,
                                       detail=detail[:300], reported_by=actor)
        if ok:
            _close(target, at)
        else:
            _open(target, "failed", detail)
    return run


@dataclass(frozen=True)
class TargetState:
    target: BackupTarget
    last_ok: dt.datetime | None
    last_run: BackupRun | None
    due_by: dt.datetime
    state: str  # ok | failed | overdue


def states(*, now: dt.datetime | None = None) -> list[TargetState]:
    """Each active target with its last good run, when the next is due, and its state."""
    now = now or timezone.now()
    last_ok = dict(BackupRun.objects.filter(status=RunStatus.OK).values("target")
                   .annotate(at=Max("at")).values_list("target", "at"))
    out = []
    for target in BackupTarget.objects.filter(active=True).select_related("department"):
        last_run = target.runs.order_by("-at").first()
        base = last_ok.get(target.pk) or target.created_at
        due = base + dt.timedelta(hours=POLICY_PERIOD_HOURS[target.policy] * TOLERANCE)
        if last_run is not None and last_run.status == RunStatus.FAILED:
            state = "failed"
        elif due < now:
            state = "overdue"
        else:
            state = "ok"
        out.append(TargetState(target, last_ok.get(target.pk), last_run, due, state))
    return out


def check_overdue(*, now: dt.datetime | None = None) -> int:
    """Open an alert for every overdue target that has none (the monitor runs this)."""
    opened = 0
    for item in states(now=now):
        if item.state == "overdue" and not item.target.alerts.filter(
                closed_at__isnull=True).exists():
            _open(item.target, "overdue", f"due by {item.due_by:%Y-%m-%d %H:%M}")
            opened += 1
    return opened


def _recipients(target: BackupTarget) -> list[str]:
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from modules.netops.monitoring import recipients

    emails, _codes = recipients(target.building)
    if target.department_id:
        users = get_user_model().objects.filter(
            Q(memberships__department_id=target.department_id), is_active=True)
        emails = sorted(set(emails) | {e for e in users.values_list("email", flat=True) if e})
    return emails


def _open(target: BackupTarget, reason: str, detail: str) -> None:
    from modules.netops.monitoring import send_alert_mail

    if target.alerts.filter(closed_at__isnull=True).exists():
        return
    emails = _recipients(target)
    BackupAlert.objects.create(target=target, reason=reason, recipients=emails)
    word = bilingual({"failed": "Backup failed", "overdue": "Backup overdue"}[reason])
    if emails:
        transaction.on_commit(lambda: send_alert_mail(f"[KentCBS] {word}: {target.name}",
                                            f"{target.code}: {detail}\n", emails))


def _close(target: BackupTarget, at: dt.datetime) -> None:
    from modules.netops.monitoring import send_alert_mail

    alert = target.alerts.filter(closed_at__isnull=True).first()
    if alert is None:
        return
    alert.closed_at = at
    alert.save(update_fields=["closed_at"])
    if alert.recipients:
        emails = list(alert.recipients)
        transaction.on_commit(lambda: send_alert_mail(
            f"[KentCBS] {bilingual('Backup recovered')}: {target.name}",
            f"{target.code}: {timezone.localtime(at):%d.%m.%Y %H:%M}\n", emails))


# -- device configurations -----------------------------------------------------------------
def record_config(*, device: str, text: str, source: str, actor: str) -> DeviceConfig | None:
    """A new version of ``device``'s configuration, or None when it did not change."""
    from gis_core.models import Asset

    device = device.strip()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with transaction.atomic():
        last = (DeviceConfig.objects.select_for_update().filter(device=device)
                .order_by("-version").first())
        if last is not None and last.sha256 == digest:
            return None
        asset = Asset.objects.filter(hostname__iexact=device.split(".")[0]).first()
        return DeviceConfig.objects.create(
            device=device, asset=asset, version=(last.version + 1) if last else 1, text=text,
            sha256=digest, source=source[:200], recorded_by=actor)


def import_folder(*, folder: Path, actor: str) -> tuple[int, int]:
    """Read every file of a RANCID ``configs/`` or Oxidized output folder (one file per
    device, named by the device). Returns (new versions, unchanged)."""
    if not folder.is_dir():
        raise NetopsError("NETOPS_NO_FILE", "Cannot read {path}: {detail}", path=str(folder),
                          detail="not a folder")
    new = same = 0
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        if record_config(device=path.name.removesuffix(".cfg"), text=text,
                         source=str(path), actor=actor):
            new += 1
        else:
            same += 1
    return new, same


def config_diff(device: str, old: int, new: int) -> list[str]:
    versions = {c.version: c for c in DeviceConfig.objects.filter(device=device,
                                                                  version__in=[old, new])}
    if old not in versions or new not in versions:
        raise NetopsError("NETOPS_NO_VERSION", "{device} has no version {version}.",
                          device=device[:60], version=old if old not in versions else new)
    return list(difflib.unified_diff(
        versions[old].text.splitlines(), versions[new].text.splitlines(),
        fromfile=f"{device} v{old}", tofile=f"{device} v{new}", lineterm=""))


def visible_targets(*, user: Any) -> Any:
    return BackupTarget.objects.filter(active=True)
