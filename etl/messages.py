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
    "GEOM_INVALID": gettext_noop("The geometry is invalid: {detail}. A repaired geometry "
                                 "({value}) is offered."),
    "OUTSIDE_MUNICIPALITY": gettext_noop("The geometry lies outside the municipality."),
    "BELOW_MIN_AREA": gettext_noop("The area {value} m² is below the minimum {detail} m²."),
    "BELOW_MIN_LENGTH": gettext_noop("The length {value} m is below the minimum {detail} m."),
    "GEOM_DUPLICATE": gettext_noop("The same geometry appears earlier in the file, at row "
                                   "{other}."),
    "GEOM_OVERLAP": gettext_noop("The geometry overlaps the one at row {other} of the file."),
    # normalisation before validation (warnings: the value was loaded as it was replaced)
    "VALUE_NORMALISED": gettext_noop("Field {field}: '{value}' was normalised to "
                                     "'{suggestion}'."),
    "VALUE_ALIAS": gettext_noop("Field {field}: '{value}' was replaced by '{suggestion}' "
                                "(an alias of the code list {detail})."),
    # inventories loaded through the core models (etl.load_models)
    "BUILDING_UNKNOWN": gettext_noop("{field}: there is no service building with the code "
                                     "'{value}'."),
    "ROOM_UNKNOWN": gettext_noop("{field}: there is no room '{value}' in the building."),
    "ROOM_AMBIGUOUS": gettext_noop("{field}: room '{value}' is in several buildings ({detail}); "
                                   "give the building code too."),
    "ROOM_NOT_IN_BUILDING": gettext_noop("{field}: room '{value}' is not in the asset's "
                                         "building; it is in {detail}."),
    "ASSET_UNKNOWN": gettext_noop("{field}: there is no asset with the inventory number "
                                  "'{value}'."),
    "ASSET_OUTSIDE_BUILDING": gettext_noop("The asset's location lies outside its building "
                                           "{value}."),
    "ASSET_SCRAPPED": gettext_noop("The asset is scrapped (hurda): it cannot be placed in "
                                   "service, assigned or linked."),
    "DEPARTMENT_UNKNOWN": gettext_noop("{field}: there is no department '{value}'."),
    "IP_FORMAT": gettext_noop("{field}: '{value}' is not an IP address."),
    "MAC_FORMAT": gettext_noop("{field}: '{value}' is not a MAC address (six pairs of hex "
                               "digits, e.g. AA:BB:CC:DD:EE:FF)."),
    "UAVT_NOT_FOUND": gettext_noop("{field}: no building with the UAVT code '{value}' is in the "
                                   "bina layer, and the row has no footprint."),
    "LINK_UNKNOWN": gettext_noop("{field}: there is no network link number {value}."),
    "LINK_END_REQUIRED": gettext_noop("A link needs a device or a building at each end."),
    "ROW_REFUSED": gettext_noop("The database refused the row: {detail}"),
}
#: Codes of the core rules (gis_core.constraints, gis_core.services): their text is in
#: ``detail`` (English, translated through the catalogue when it is a known message).
RULE_DETAIL_CODES = frozenset({
    "IP_TAKEN", "MAC_TAKEN", "ROOM_OUTSIDE_BUILDING", "FLOOR_NOT_IN_BUILDING",
    "ROOM_CODE_TAKEN", "UAVT_TAKEN", "UAVT_FORMAT", "ROOM_NEEDS_BUILDING",
    "LINK_ENDS_MISMATCH", "LINK_ENDS_UNLOCATED", "ASSET_STILL_LINKED", "PAYMENT_DAY",
    "INVENTORY_NUMBER_TAKEN", "ASSET_TRANSITION_NOT_ALLOWED", "SCRAPPING_RECORD_REQUIRED",
    "ASSET_STATUS_UNKNOWN"})
#: Variants chosen by what a problem row holds (same codes).
VARIANTS: dict[str, str] = {
    # GEOM_INVALID without a repair the layer can hold (make_valid gave lines or points, or
    # several parts for a single-part layer)
    "GEOM_INVALID_UNREPAIRED": gettext_noop(
        "The geometry is invalid: {detail}. Repaired it becomes {value}, which a {hint} layer "
        "cannot hold: redraw it."),
    # CODELIST: the value is an official neighbourhood of another district
    "CODELIST_ELSEWHERE": gettext_noop(
        "'{value}' is an official neighbourhood of {hint}, not of this municipality."),
}
SUGGESTION = gettext_noop("Did you mean '{suggestion}'?")


def _templates(language: str) -> dict[str, str]:
    with translation.override(language):
        found = {code: str(translation.gettext(text))
                 for code, text in (RULE_MESSAGES | VARIANTS).items()}
        found["_suggestion"] = str(translation.gettext(SUGGESTION))
    return found


def row_reference(feature: object, key: object) -> str:
    """A feature as people find it in QGIS: its 1-based row, and its key value.

    Examples
    --------
    >>> row_reference(11, "B-11"), row_reference(0, None)
    ('12 (B-11)', '1')
    """
    if feature is None or feature is pd.NA:
        return ""
    row = str(int(feature) + 1)  # type: ignore[call-overload]
    return f"{row} ({key})" if key not in (None, "") and key is not pd.NA else row


def _text(value: object) -> str:
    return "" if value is None or value is pd.NA else str(value)


def render(problems: pd.DataFrame) -> pd.DataFrame:
    """Add ``message_tr`` and ``message_en`` columns to a problems table."""
    out = problems.copy()
    for lang in ("tr", "en"):
        templates = _templates(lang)
        texts = []
        for row in out.itertuples(index=False):
            other = getattr(row, "other", None)
            hint = _text(getattr(row, "hint", ""))
            code = row.code
            if code == "GEOM_INVALID" and not row.suggestion and hint:
                code = "GEOM_INVALID_UNREPAIRED"
            if code in RULE_DETAIL_CODES or (code not in templates and row.detail):
                detail = _text(row.detail)
                with translation.override(lang):
                    texts.append(str(translation.gettext(detail)) if detail else code)
                continue
            text = templates.get(code, row.code).format(
                field=row.field or "", value=_text(row.value), detail=_text(row.detail),
                suggestion=row.suggestion or "", hint=hint,
                other=row_reference(None if pd.isna(other) else other,
                                    getattr(row, "other_key", None)))
            if row.suggestion and row.code == "CODELIST":
                text += " " + templates["_suggestion"].format(suggestion=row.suggestion)
            elif hint and row.code == "CODELIST":
                text += " " + templates["CODELIST_ELSEWHERE"].format(value=_text(row.value),
                                                                      hint=hint)
            texts.append(text)
        out[f"message_{lang}"] = texts
    return out
