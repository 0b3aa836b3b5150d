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


def field_key(name: str) -> str:
    """Return the comparison key of a field name: folded, words joined by ``_``.

    Examples
    --------
    >>> field_key("MAHALLE_ADI"), field_key("Mahalle Adı"), field_key(" mahalle-adı ")
    ('mahalle_adi', 'mahalle_adi', 'mahalle_adi')
    """
    return _NON_WORD.sub("_", fold(name)).strip("_")
