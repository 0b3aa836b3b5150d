"""Data-quality scores page ("veri kalite karnesi", issue 18 §5): a table per department,
layer and month over :func:`etl.selectors.quality_scores`, exportable to XLSX.

The GIS administrators and managers see every department; anyone else sees the
departments they are a member of (their own report card). Layers are those the user may
read (the selector's own rule). No chart yet: a table (the numbers a chart would draw).
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from etl.selectors import QualityScore, quality_scores
from gis_core.selectors import user_access
from layers.access import is_gis_admin

#: Rules shown per row on the page (all of them are in the XLSX).
TOP_RULES = 5
#: What a department code looks like (a filter that is not one is ignored).
DEPARTMENT_CODE = re.compile(r"[a-z0-9_]{1,60}")


def _visible(user: Any, scores: list[QualityScore]) -> list[QualityScore]:
    access = user_access(user)
    if is_gis_admin(user) or "manager" in access.roles:
        return scores
    own = {code for code, _role in access.memberships}
    return [score for score in scores if score.department in own]


def _xlsx(scores: list[QualityScore]) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "kalite"
    rules = sorted({code for score in scores for code in score.problems})
    sheet.append([_("Month"), _("Department"), _("Layer"), _("Uploads"), _("Features"),
                  _("Accepted"), _("Share accepted"),
                  *(f"{code} / 1000" for code in rules)])
    for score in scores:
        per = score.per_thousand
        sheet.append([score.month.strftime("%Y-%m"), score.department, score.layer,
                      score.batches, score.features, score.accepted, score.share_accepted,
                      *(round(per.get(code, 0.0), 3) for code in rules)])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = 'attachment; filename="kentcbs-veri-kalitesi.xlsx"'
    return response


@login_required
@require_GET
def quality(request: HttpRequest) -> HttpResponse:
    """The scores, filtered by ``department`` and ``layer``; ``?format=xlsx`` to download."""
    from layers.access import readable_layers

    department = request.GET.get("department", "").strip() or None
    if department is not None and not DEPARTMENT_CODE.fullmatch(department):
        department = None  # not a department code: no such department, no filter
    layer = request.GET.get("layer", "").strip() or None
    if layer not in {item.code for item in readable_layers(request.user)}:
        layer = None
    scores = _visible(request.user, quality_scores(user=request.user, department=department,
                                                   layer=layer))
    if request.GET.get("format") == "xlsx":
        return _xlsx(scores)
    rows = [{"score": score, "share": (None if score.share_accepted is None
                                       else round(100 * score.share_accepted, 1)),
             "rules": [(code, round(value, 1))
                       for code, value in list(score.per_thousand.items())[:TOP_RULES]]}
            for score in scores]
    return render(request, "web/reports/quality.html", {
        "rows": rows, "department": department or "", "layer": layer or ""})
