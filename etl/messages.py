"""Bilingual messages of the validation rules (English msgids, Turkish in the catalogue)."""

from __future__ import annotations

import pandas as pd
from django.utils import translation
from django.utils.translation import gettext_noop

#: Rule code -> English message template (placeholders: field, value, detail, suggestion).
RULE_MESSAGES: dict[str, str] = {
    "REQUIRED": gettext_noop("Field {field} is required."),
    "TYPE": gettext_noop("Field {field}: '{value}' is not a valid {detail}."),
    "CODELIST": gettext_noop("Field {field}: '{value}' is not in the code list {detail}."),
    "PATTERN": gettext_noop("Field {field}: '{value}' does not match the pattern {detail}."),
    "RANGE": gettext_noop("Field {field}: {value} is outside the range {detail}."),
    "MAX_LENGTH": gettext_noop("Field {field}: the value is longer than {detail} characters."),
    "UNIQUE_IN_FILE": gettext_noop("{field} '{value}' appears more than once in the file."),
    "UNIQUE_IN_DB": gettext_noop("{field} '{value}' is already used by another stored feature."),
    "GEOM_TYPE": gettext_noop("The geometry is a {value}; the layer needs {detail}."),
    "GEOM_EMPTY": gettext_noop("The feature has no geometry, or it cannot be read."),
    "GEOM_INVALID": gettext_noop("The geometry is invalid: {detail}. A repaired geometry is "
                                 "offered."),
    "OUTSIDE_MUNICIPALITY": gettext_noop("The geometry lies outside the municipality."),
    "BELOW_MIN_AREA": gettext_noop("The area {value} m² is below the minimum {detail} m²."),
    "BELOW_MIN_LENGTH": gettext_noop("The length {value} m is below the minimum {detail} m."),
    "GEOM_DUPLICATE": gettext_noop("The same geometry appears earlier in the file."),
    "GEOM_OVERLAP": gettext_noop("The geometry overlaps feature {detail} of the file."),
}
SUGGESTION = gettext_noop("Did you mean '{suggestion}'?")


def _templates(language: str) -> dict[str, str]:
    with translation.override(language):
        found = {code: str(translation.gettext(text)) for code, text in RULE_MESSAGES.items()}
        found["_suggestion"] = str(translation.gettext(SUGGESTION))
    return found


def render(problems: pd.DataFrame) -> pd.DataFrame:
    """Add ``message_tr`` and ``message_en`` columns to a problems table."""
    out = problems.copy()
    for lang in ("tr", "en"):
        templates = _templates(lang)
        texts = []
        for row in out.itertuples(index=False):
            text = templates.get(row.code, row.code).format(
                field=row.field or "", value=row.value if row.value is not None else "",
                detail=row.detail if row.detail is not None else "",
                suggestion=row.suggestion or "")
            if row.suggestion and row.code == "CODELIST":
                text += " " + templates["_suggestion"].format(suggestion=row.suggestion)
            texts.append(text)
        out[f"message_{lang}"] = texts
    return out
