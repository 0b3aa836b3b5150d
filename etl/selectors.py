"""Permission-aware reads of ETL batches: data-quality scores over time (issue 18 §5).

:func:`quality_scores` groups the batches that validated every feature of their file
(status ``loaded``, ``unchanged`` or ``rejected``; not dry runs, refused or failed files,
nor undo batches) per department, layer and month, and gives for each group:

* ``share_accepted``: features accepted (loaded, or that would have loaded:
  ``count_loaded``) over features read;
* ``per_thousand``: problems per 1,000 features read, by rule (errors and warnings, as
  counted in each batch's report, ``counts.by_rule``).

A batch whose report cannot be read counts in the features and the accepted share, not in
the problems (``reports_missing`` says how many).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.db.models.functions import TruncMonth
from django.utils import timezone

from etl.models import Batch, BatchPolicyChoices, BatchStatusChoices

#: Batches that validated every feature of their file.
SCORED_STATUSES = (BatchStatusChoices.LOADED, BatchStatusChoices.UNCHANGED,
                   BatchStatusChoices.REJECTED)


@dataclass
class QualityScore:
    """Data quality of one department's batches into one layer in one month."""

    department: str
    layer: str
    month: date
    batches: int = 0
    features: int = 0
    accepted: int = 0
    #: Problems per rule code (errors and warnings), summed over the batches.
    problems: dict[str, int] = field(default_factory=dict)
    reports_missing: int = 0

    @property
    def share_accepted(self) -> float | None:
        """Accepted features over features read (``None`` when none were read)."""
        return self.accepted / self.features if self.features else None

    @property
    def per_thousand(self) -> dict[str, float]:
        """Problems per 1,000 features read, by rule, most frequent first."""
        if not self.features:
            return {}
        return {code: 1000.0 * n / self.features
                for code, n in sorted(self.problems.items(), key=lambda kv: (-kv[1], kv[0]))}


def _rule_counts(batch: Batch) -> dict[str, int] | None:
    """Problems per rule in the batch's JSON report (``None``: no readable report)."""
    if not batch.report_json:
        return None
    try:
        data = json.loads(Path(batch.report_json).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found: dict[str, int] = defaultdict(int)
    for row in (data.get("counts") or {}).get("by_rule") or []:
        found[str(row.get("code"))] += int(row.get("count") or 0)
    return dict(found)


def _day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the current time zone (months are cut there)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def quality_scores(*, user: Any, department: str | None = None, layer: str | None = None,
                   since: date | None = None, until: date | None = None
                   ) -> list[QualityScore]:
    """Data-quality scores of the layers ``user`` may read, per department, layer and month
    (oldest month first).

    Parameters
    ----------
    user : User
        Only batches of layers this user may read (:func:`layers.access.readable_layers`).
    department, layer : str, optional
        Only this department's (its own "veri kalite karnesi") or this layer's batches.
    since, until : date, optional
        Only batches created on or after ``since`` and before ``until``.

    Examples
    --------
    >>> [(s.month, s.share_accepted) for s in quality_scores(user=u)]  # doctest: +SKIP
    [(datetime.date(2026, 11, 1), 0.9), (datetime.date(2026, 12, 1), 0.98)]
    """
    from layers.access import readable_layers

    codes = [item.code for item in readable_layers(user)]
    batches = (Batch.objects.filter(layer_code__in=codes, status__in=SCORED_STATUSES)
               .exclude(policy__in=[BatchPolicyChoices.UNDO, BatchPolicyChoices.DRY_RUN]))
    if department:
        batches = batches.filter(department=department)
    if layer:
        batches = batches.filter(layer_code=layer)
    if since:
        batches = batches.filter(created__gte=_day_start(since))
    if until:
        batches = batches.filter(created__lt=_day_start(until))
    scores: dict[tuple[str, str, date], QualityScore] = {}
    rows = batches.annotate(month=TruncMonth("created")).order_by("month", "pk")
    for batch in rows:
        month = batch.month.date() if hasattr(batch.month, "date") else batch.month
        key = (batch.department, batch.layer_code, month)
        score = scores.setdefault(key, QualityScore(batch.department, batch.layer_code, month))
        score.batches += 1
        score.features += batch.count_read
        score.accepted += batch.count_loaded
        counted = _rule_counts(batch)
        if counted is None:
            score.reports_missing += 1
            continue
        for code, n in counted.items():
            score.problems[code] = score.problems.get(code, 0) + n
    return sorted(scores.values(), key=lambda s: (s.month, s.department, s.layer))


@dataclass(frozen=True)
class RuleScore:
    """How often one rule failed over a set of scores."""

    code: str
    #: Problems of this rule, summed over the scores.
    problems: int
    #: Problems per 1,000 features read in those scores.
    per_thousand: float


def failing_rules(scores: list[QualityScore], *, limit: int | None = None) -> list[RuleScore]:
    """The rules that fail most over ``scores`` (most problems first, then by code).

    Examples
    --------
    >>> a = QualityScore("fen", "bina", date(2026, 12, 1), 1, 10, 8, {"RANGE": 2})
    >>> b = QualityScore("fen", "yol", date(2026, 12, 1), 1, 30, 30, {"RANGE": 1, "TYPE": 1})
    >>> [(r.code, r.problems, round(r.per_thousand, 1)) for r in failing_rules([a, b])]
    [('RANGE', 3, 75.0), ('TYPE', 1, 25.0)]
    """
    features = sum(score.features for score in scores)
    totals: dict[str, int] = defaultdict(int)
    for score in scores:
        for code, n in score.problems.items():
            totals[code] += n
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [RuleScore(code, n, 1000.0 * n / features if features else 0.0)
            for code, n in ranked]
