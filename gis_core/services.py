"""Writes of the core domain: asset lifecycle, scrapping, placement.

Every function is keyword-only, runs in one transaction, records who did it
(through :mod:`gis_core.audit`) and turns a violated rule into a clear error.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from gis_core.audit import current
from gis_core.choices import ASSET_TRANSITIONS, AssetStatusChoices, ScrappingStatusChoices
from gis_core.constraints import rules_explained
from gis_core.errors import KentCBSError
from gis_core.models import Asset, AssetTransition, ScrappingRecord


def _actor(user: Any) -> Any:
    user = user if user is not None else current().user
    return user if getattr(user, "is_authenticated", False) else None


def save_with_rules(obj: Any) -> Any:
    """Save a core object; a violated rule becomes a ``RuleViolation`` with a clear message."""
    with transaction.atomic(), rules_explained():
        obj.save()
    return obj


@transaction.atomic
def transition_asset(*, asset: Asset, to_status: str, user: Any = None,
                     reason: str = "") -> AssetTransition:
    """Move ``asset`` to ``to_status`` along the lifecycle, recording the step.

    in stock → in service → in repair (internal, vendor, warranty) → scrapped.
    Scrapping goes through :func:`approve_scrapping` (a scrapping record).

    Examples
    --------
    >>> transition_asset(asset=pc, to_status="in_repair_vendor", reason="T-12")  # doctest: +SKIP
    """
    asset = Asset.objects.select_for_update().get(pk=asset.pk)
    if to_status not in AssetStatusChoices.values:
        raise KentCBSError("ASSET_STATUS_UNKNOWN", "Unknown asset status '{status}'.",
                           status=to_status)
    if asset.status == AssetStatusChoices.SCRAPPED:
        raise KentCBSError("ASSET_SCRAPPED", "The asset is scrapped (hurda): it cannot be "
                           "placed in service, assigned or linked.")
    if to_status == AssetStatusChoices.SCRAPPED and not ScrappingRecord.objects.filter(
            asset=asset, status=ScrappingStatusChoices.APPROVED).exists():
        raise KentCBSError("SCRAPPING_RECORD_REQUIRED",
                           "An asset is scrapped only through an approved scrapping record.")
    if to_status not in ASSET_TRANSITIONS[asset.status]:
        raise KentCBSError("ASSET_TRANSITION_NOT_ALLOWED",
                           "An asset cannot go from '{old}' to '{new}'.",
                           old=asset.status, new=to_status)
    step = AssetTransition.objects.create(asset=asset, from_status=asset.status,
                                          to_status=to_status, user=_actor(user),
                                          source=current().source, reason=reason[:300])
    asset.status = to_status
    if to_status == AssetStatusChoices.SCRAPPED:
        asset.assigned_person = ""
    with rules_explained():
        asset.save(update_fields=["status", "assigned_person"])
    return step


@transaction.atomic
def register_asset(*, asset: Asset, user: Any = None, reason: str = "") -> Asset:
    """Register a new asset and record its first status."""
    save_with_rules(asset)
    AssetTransition.objects.create(asset=asset, from_status="", to_status=asset.status,
                                   user=_actor(user), source=current().source,
                                   reason=reason or "kayıt / registered")
    return asset


@transaction.atomic
def propose_scrapping(*, asset: Asset, user: Any = None, reason: str) -> ScrappingRecord:
    """Propose scrapping (hurda) when repair is uneconomic; idempotent per asset."""
    if asset.status == AssetStatusChoices.SCRAPPED:
        raise KentCBSError("ASSET_SCRAPPED", "The asset is scrapped (hurda): it cannot be "
                           "placed in service, assigned or linked.")
    record, created = ScrappingRecord.objects.get_or_create(
        asset=asset, defaults={"reason": reason, "proposed_by": _actor(user)})
    if not created and record.status == ScrappingStatusChoices.REJECTED:
        record.status = ScrappingStatusChoices.PROPOSED
        record.reason = reason
        record.proposed_by = _actor(user)
        record.save()
    return record


@transaction.atomic
def decide_scrapping(*, record: ScrappingRecord, approve: bool, user: Any = None,
                     decision_number: str = "") -> ScrappingRecord:
    """Approve (the asset becomes hurda) or reject a scrapping proposal."""
    if record.status != ScrappingStatusChoices.PROPOSED:
        raise KentCBSError("SCRAPPING_ALREADY_DECIDED",
                           "This scrapping proposal has already been decided.")
    record.status = (ScrappingStatusChoices.APPROVED if approve
                     else ScrappingStatusChoices.REJECTED)
    record.decision_number = decision_number
    record.decided_at = timezone.now()
    record.decided_by = _actor(user)
    record.save()
    if approve:
        transition_asset(asset=record.asset, to_status=AssetStatusChoices.SCRAPPED, user=user,
                         reason=f"hurda kararı / scrapping decision {decision_number}".strip())
    return record
