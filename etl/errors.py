"""Typed errors of the ETL: a whole upload is refused (per-feature problems go to reports)."""

from __future__ import annotations

from gis_core.errors import KentCBSError


class UploadRefused(KentCBSError):
    """The upload as a whole is refused (hostile, unreadable, too big, no CRS...).

    ``code`` is a stable reason code such as ``ZIP_BOMB`` or ``NOT_GEODATA``.
    The English template and its parameters are kept, so that a refusal made in
    a parser child process can be raised again, translated, in the parent.
    """

    def __init__(self, code: str, message: str, **params: object) -> None:
        self.template = message
        self.params = params
        super().__init__(code, message, **params)


class LoadFailed(KentCBSError):
    """Loading into the database failed; the layer was left as it was."""


class BatchNotFound(KentCBSError):
    """No batch with that id."""


class UndoRefused(KentCBSError):
    """A batch cannot be undone (not loaded, an undo itself, later batches changed the same
    features, or the user may not); nothing was changed.

    The English template and its parameters are kept (``template``, ``params``): a web page
    shows the message in the user's language only."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        self.template = message
        self.params = params
        super().__init__(code, message, **params)


class UndoForbidden(UndoRefused):
    """The user is neither the batch's sender nor a GIS administrator."""
