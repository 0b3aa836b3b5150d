"""Turkish-aware text folding with an explicit table (never ``str.lower`` alone).

``'İ'.lower()`` is two code points and Django's ``slugify`` drops ``ı``; the
ETL matches field names and code-list values after folding with this table.
"""

from __future__ import annotations

import re
import unicodedata

#: Explicit folding of Turkish letters to ASCII (upper and lower case).
TURKISH_FOLD = str.maketrans({
    "ı": "i", "İ": "i", "I": "i", "ş": "s", "Ş": "s", "ğ": "g", "Ğ": "g",
    "ü": "u", "Ü": "u", "ö": "o", "Ö": "o", "ç": "c", "Ç": "c",
    "â": "a", "Â": "a", "î": "i", "Î": "i", "û": "u", "Û": "u",
})

_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Fold Turkish diacritics and case: ``'Yenidoğan İŞ'`` -> ``'yenidogan is'``.

    Examples
    --------
    >>> fold("Mahalle Adı")
    'mahalle adi'
    >>> fold("İSTANBUL")
    'istanbul'
    """
    folded = text.translate(TURKISH_FOLD)
    # Other accents (é, à...) lose their marks; the result is ASCII lower case.
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return folded.lower()


#: The words that name the kind of place after a neighbourhood's name ("Emek Mahallesi",
#: "Emek Mah.", "Emek Mh."); the name is what comes before.
_PLACE_SUFFIX = re.compile(r"\s+(mahallesi|mahalle|mah\.?|mh\.?)\s*$", re.IGNORECASE)
#: Street-type abbreviations of Turkish addresses and what they stand for.
STREET_WORDS = {"cad": "Cadde", "cd": "Cadde", "sok": "Sokak", "sk": "Sokak",
                "blv": "Bulvar", "bulv": "Bulvar", "mey": "Meydan", "myd": "Meydan"}
_STREET_ABBREV = re.compile(r"\b(" + "|".join(STREET_WORDS) + r")\b\.?", re.IGNORECASE)


def turkish_lower(text: str) -> str:
    """Lower case by Turkish rules (``I`` -> ``ı``, ``İ`` -> ``i``), one letter per letter.

    Examples
    --------
    >>> turkish_lower("IŞIK İLE"), len(turkish_lower("İ"))
    ('ışık ile', 1)
    """
    return text.replace("I", "ı").replace("İ", "i").lower()


def strip_place_suffix(text: str) -> str:
    """``"X Mahallesi"`` / ``"X Mah."`` / ``"X MH"`` -> ``"X"`` (Turkish case rules).

    Examples
    --------
    >>> strip_place_suffix("Akarbaşı Mahallesi"), strip_place_suffix("EMEK MAH."),
    ('Akarbaşı', 'EMEK')
    >>> strip_place_suffix("Mahalle")  # nothing before it: kept
    'Mahalle'
    """
    stripped = _PLACE_SUFFIX.sub("", text.strip())
    return stripped.strip() or text.strip()


def expand_street_words(text: str) -> str:
    """Spell out ``Cad.``, ``Sok.``, ``Blv.`` (and ``Cd.``, ``Sk.``) as Cadde, Sokak, Bulvar.

    Examples
    --------
    >>> expand_street_words("Atatürk Cad."), expand_street_words("1. Sk")
    ('Atatürk Cadde', '1. Sokak')
    >>> expand_street_words("Sokak"), expand_street_words("GAZİ BLV.")
    ('Sokak', 'GAZİ Bulvar')
    """
    return _STREET_ABBREV.sub(lambda m: STREET_WORDS[fold(m.group(1))], text).strip()


def field_key(name: str) -> str:
    """Return the comparison key of a field name: folded, words joined by ``_``.

    Examples
    --------
    >>> field_key("MAHALLE_ADI"), field_key("Mahalle Adı"), field_key(" mahalle-adı ")
    ('mahalle_adi', 'mahalle_adi', 'mahalle_adi')
    """
    return _NON_WORD.sub("_", fold(name)).strip("_")
