"""Typed errors with a stable code and a bilingual (Turkish first) user message.

Every error an operator or a department user can meet is a :class:`KentCBSError`.
It subclasses Django's ``CommandError`` so that management commands print it as
one line and exit non-zero, never with a traceback.
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.core.management.base import CommandError


def bilingual(message: str, **params: object) -> str:
    """Return ``message`` in Turkish, then in English, joined by `` / ``.

    ``message`` is an English msgid; its Turkish translation comes from the
    project's gettext catalogue. Works outside a request and before Django
    settings are configured (then only the English text is returned).

    Examples
    --------
    >>> bilingual("Port {port} is in use.", port=5432)  # doctest: +SKIP
    'Port 5432 kullanımda. / Port 5432 is in use.'
    """
    english = message.format(**params) if params else message
    from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
    from django.utils import translation

    try:
        with translation.override("tr"):
            turkish = str(translation.gettext(message))
    except (ImproperlyConfigured, AppRegistryNotReady):  # settings not loaded yet
        return english
    turkish = turkish.format(**params) if params else turkish
    return english if turkish == english else f"{turkish} / {english}"


class KentCBSError(CommandError):
    """An error with a stable ``code`` and a bilingual message.

    Parameters
    ----------
    code : str
        Stable identifier, e.g. ``DB_PORT_IN_USE``; documented and tested.
    message : str
        English msgid with ``str.format`` placeholders; translated to Turkish.
    **params
        Values for the placeholders.
    """

    exit_code = 2

    def __init__(self, code: str, message: str, **params: object) -> None:
        self.code = code
        self.msgid, self.params = message, params
        self.english = message.format(**params) if params else message
        self.text = bilingual(message, **params)
        super().__init__(f"[{code}] {self.text}", returncode=self.exit_code)

    @property
    def localized(self) -> str:
        """The message in the active language only (for web pages: one language at a time)."""
        from django.utils.translation import gettext

        msgid = getattr(self, "msgid", None)
        if msgid is None:  # a subclass that builds its message itself
            return str(getattr(self, "text", self))
        text = str(gettext(msgid))
        return text.format(**self.params) if self.params else text


class DatabaseSetupError(KentCBSError):
    """The database cannot be found, started or used."""


class InvalidParameter(BadRequest):
    """A path, query or form parameter that is not what the page expects: a 400 page.

    ``text`` is the message in the active language (Turkish unless the user chose
    English); the 400 handler (``web.views_errors.bad_request``) shows it.
    """

    code = "INVALID_PARAMETER"

    def __init__(self, name: str, expected: str) -> None:
        from django.utils.translation import gettext

        self.name = name
        self.text = gettext("The parameter “{name}” is not valid: {expected} expected.").format(
            name=name, expected=expected)
        super().__init__(f"[{self.code}] {self.text}")
