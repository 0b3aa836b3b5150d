"""Defences against hostile uploads: checked before GDAL or GEOS see a byte.

Uploads are the main attack surface. Each check refuses the whole upload with
an :class:`~etl.errors.UploadRefused` carrying a stable reason code. Archives
are unpacked only into the upload's own work folder, with every entry checked
(zip slip, symlinks, bombs), and parsing runs in a child process under
``RLIMIT_AS``/``RLIMIT_CPU`` (:func:`run_limited`), so a bad file cannot take
the server down.

Reason codes: ``PATH_REFUSED``, ``FILE_MISSING``, ``EMPTY_FILE``, ``TOO_LARGE``,
``ZIP_CORRUPT``, ``ZIP_BOMB``, ``ZIP_SLIP``, ``ZIP_SYMLINK``, ``ZIP_NESTED``,
``INDIRECTION``, ``DRIVER_REFUSED``, ``NESTING_TOO_DEEP``, ``NOT_GEODATA``,
``PARSE_LIMIT``, ``PARSE_CRASHED``.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
import resource
import stat
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from etl.errors import UploadRefused

#: Drivers an upload may be read with (GDAL's names). Everything else (VRT, WFS,
#: HTTP, OGCAPI, SQLite without the GeoPackage id...) is refused.
ALLOWED_DRIVERS = frozenset({"GPKG", "ESRI Shapefile", "GeoJSON", "CSV", "KML", "LIBKML", "DXF"})


@dataclass(frozen=True)
class Limits:
    """Resource caps for one upload; defaults come from settings."""

    max_bytes: int = 2 * 1024**3
    zip_max_entries: int = 1000
    zip_max_total: int = 8 * 1024**3
    zip_max_ratio: float = 200.0
    max_nesting: int = 64
    memory_bytes: int = 6 * 1024**3
    cpu_seconds: int = 900

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        max_bytes = int(getattr(settings, "KENTCBS_UPLOAD_MAX_BYTES", cls.max_bytes))
        return cls(
            max_bytes=max_bytes,
            zip_max_total=int(getattr(settings, "KENTCBS_ETL_ZIP_MAX_TOTAL", 4 * max_bytes)),
            memory_bytes=int(getattr(settings, "KENTCBS_ETL_MEMORY_BYTES", cls.memory_bytes)),
            cpu_seconds=int(getattr(settings, "KENTCBS_ETL_CPU_SECONDS", cls.cpu_seconds)),
        )


# -- paths ---------------------------------------------------------------------
def check_path(path: Path | str, *, limits: Limits) -> Path:
    """Refuse GDAL virtual paths, URLs, missing, empty, oversize or non-regular files.

    Examples
    --------
    >>> check_path("/vsicurl/http://x/y.shp", limits=Limits())  # doctest: +SKIP
    Traceback (most recent call last):
    etl.errors.UploadRefused: [PATH_REFUSED] ...
    """
    text = str(path)
    lowered = text.strip().lower()
    if lowered.startswith("/vsi") or "://" in lowered or lowered.startswith(("http:", "https:")):
        raise UploadRefused("PATH_REFUSED",
                            "The path '{path}' is a URL or a GDAL virtual path; upload a file.",
                            path=text)
    p = Path(text)
    if p.is_symlink():
        raise UploadRefused("PATH_REFUSED", "The path '{path}' is a symbolic link.", path=text)
    if not p.is_file():
        raise UploadRefused("FILE_MISSING", "The file '{path}' does not exist.", path=text)
    size = p.stat().st_size
    if size == 0:
        raise UploadRefused("EMPTY_FILE", "The file '{name}' is empty.", name=p.name)
    if size > limits.max_bytes:
        raise UploadRefused("TOO_LARGE",
                            "The file '{name}' is {size} bytes; the limit is {limit} bytes.",
                            name=p.name, size=size, limit=limits.max_bytes)
    return p


# -- archives ------------------------------------------------------------------
def _entry_is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return bool(mode) and stat.S_ISLNK(mode)


def _safe_member_name(name: str) -> PurePosixPath:
    cleaned = name.replace("\\", "/")
    pure = PurePosixPath(cleaned)
    if (cleaned.startswith("/") or ".." in pure.parts
            or (len(cleaned) > 1 and cleaned[1] == ":")):
        raise UploadRefused("ZIP_SLIP",
                            "The archive entry '{entry}' points outside the archive.",
                            entry=name)
    return pure


def safe_extract(archive: Path, dest: Path, *, limits: Limits) -> list[Path]:
    """Unpack ``archive`` into ``dest`` after checking every entry; return the files.

    Refuses zip slip (``../``, absolute names), symlinks, nested archives,
    too many entries, a total or a compression ratio above the limits. Sizes
    are counted while writing, never trusted from the archive's header.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRefused("ZIP_CORRUPT", "The archive '{name}' cannot be opened: {reason}",
                            name=archive.name, reason=str(exc)) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.zip_max_entries:
            raise UploadRefused("ZIP_BOMB", "The archive has {n} entries; the limit is {limit}.",
                                n=len(infos), limit=limits.zip_max_entries)
        declared = 0
        for info in infos:
            _safe_member_name(info.filename)
            if _entry_is_symlink(info):
                raise UploadRefused("ZIP_SYMLINK",
                                    "The archive entry '{entry}' is a symbolic link.",
                                    entry=info.filename)
            if info.filename.lower().endswith((".zip", ".gz", ".7z", ".rar", ".tar")):
                raise UploadRefused("ZIP_NESTED",
                                    "The archive contains another archive ('{entry}').",
                                    entry=info.filename)
            declared += info.file_size
            if info.compress_size and info.file_size / info.compress_size > limits.zip_max_ratio:
                raise UploadRefused("ZIP_BOMB",
                                    "The archive entry '{entry}' expands {ratio:.0f} times; "
                                    "the limit is {limit:.0f}.",
                                    entry=info.filename,
                                    ratio=info.file_size / info.compress_size,
                                    limit=limits.zip_max_ratio)
        if declared > limits.zip_max_total:
            raise UploadRefused("ZIP_BOMB", "The archive expands to {size} bytes; the limit "
                                "is {limit}.", size=declared, limit=limits.zip_max_total)
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        written_total = 0
        out: list[Path] = []
        for info in infos:
            if info.is_dir():
                continue
            target = (root / _safe_member_name(info.filename)).resolve()
            if not target.is_relative_to(root):
                raise UploadRefused("ZIP_SLIP",
                                    "The archive entry '{entry}' points outside the archive.",
                                    entry=info.filename)
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with zf.open(info) as src, open(target, "xb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        written_total += len(chunk)
                        if (written > info.file_size or written_total > limits.zip_max_total
                                or written > max(info.compress_size, 1) * limits.zip_max_ratio):
                            raise UploadRefused("ZIP_BOMB", "The archive entry '{entry}' "
                                                "expands beyond what its header says.",
                                                entry=info.filename)
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise UploadRefused("ZIP_CORRUPT", "The archive '{name}' is damaged: {reason}",
                                    name=archive.name, reason=str(exc)) from None
            out.append(target)
        return out


# -- nesting -------------------------------------------------------------------
def max_bracket_depth(path: Path, opening: bytes, closing: bytes) -> int:
    """Return the deepest nesting of ``opening``/``closing`` bytes in a text file.

    Vectorised with numpy over 16 MiB blocks; brackets inside string values
    count too, which only errs on the side of refusing.
    """
    lut = np.zeros(256, dtype=np.int8)
    for b in opening:
        lut[b] = 1
    for b in closing:
        lut[b] = -1
    depth = 0
    deepest = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            steps = lut[np.frombuffer(block, dtype=np.uint8)]
            if not steps.any():
                continue
            running = np.cumsum(steps, dtype=np.int64) + depth
            deepest = max(deepest, int(running.max()))
            depth = int(running[-1])
    return deepest


def max_text_depth(texts: np.ndarray) -> int:
    """Deepest parenthesis nesting over an array of WKT strings (vectorised per string)."""
    deepest = 0
    lut = np.zeros(256, dtype=np.int8)
    lut[ord("(")] = 1
    lut[ord(")")] = -1
    joined = "\n".join(str(t) for t in texts if isinstance(t, str)).encode("utf-8", "replace")
    if joined:
        steps = lut[np.frombuffer(joined, dtype=np.uint8)]
        # Reset at each string: depth never carries across rows for balanced WKT;
        # unbalanced rows only make the figure larger (refuse-leaning).
        deepest = int(np.cumsum(steps, dtype=np.int64).max(initial=0))
    return deepest


def check_nesting(depth: int, *, limits: Limits, name: str) -> None:
    if depth > limits.max_nesting:
        raise UploadRefused("NESTING_TOO_DEEP",
                            "'{name}' nests {depth} levels deep; the limit is {limit}.",
                            name=name, depth=depth, limit=limits.max_nesting)


# -- child process with limits -------------------------------------------------
def _dumps(result: Any) -> bytes | memoryview:
    """``result`` pickled without the pickler's memo (its "fast" mode): a parsed chunk is
    a few hundred thousand strings and WKB values, each written once, and memoising
    every one of them took ~3/4 of the pickling (~0.13 -> ~0.035 s per 180,000
    features; the parent's unpickling is faster too). A cyclic object, which fast mode
    refuses, is pickled the usual way."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    try:
        pickler.dump(result)
    except (ValueError, RecursionError):
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getbuffer()


def _child(conn: Any, func: Callable[..., Any], args: tuple[Any, ...], limits: Limits) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    try:
        result = ("ok", func(*args))
    except UploadRefused as exc:
        result = ("refused", (exc.code, exc.template,
                              {k: v if isinstance(v, int | float) else str(v)
                               for k, v in exc.params.items()}))
    except MemoryError:
        result = ("limit", "memory")
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as a refusal
        result = ("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:500])
        if os.environ.get("KENTCBS_ETL_DEBUG"):
            traceback.print_exc()
    try:
        conn.send_bytes(_dumps(result))
    except MemoryError:
        conn.send_bytes(pickle.dumps(("limit", "memory")))
    finally:
        conn.close()


_CONTEXT: Any = None


def _context() -> Any:
    """A ``forkserver`` context: children fork from a clean single-threaded server that has
    preloaded the readers, never from the (multi-threaded) web or CLI process."""
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["etl.read"])
        _CONTEXT = ctx
    return _CONTEXT


def warm_up() -> None:
    """Start the parser children's forkserver now, in the background, if it is not running.

    The server imports the readers (pyogrio, which imports geopandas: ~0.45 s) once; a
    process that is about to ingest (``kentcbs ingest`` before Django starts, the web
    upload page) calls this so that the import runs beside its own start instead of
    before the upload's first read. Returns at once; the first child waits for the server
    if it is still importing. A failure here is not an error: the first child starts the
    server again (and reports what is wrong).
    """
    import multiprocessing.forkserver

    _context()
    try:
        multiprocessing.forkserver.ensure_running()
    except OSError:  # e.g. no /dev/shm or too many processes: the first child will say
        return


class Pending[T]:
    """A limited child process started by :func:`start_limited`; ``result()`` waits for it."""

    def __init__(self, func: Callable[..., T], args: tuple[Any, ...], *, limits: Limits,
                 what: str) -> None:
        ctx = _context()
        self.limits, self.what = limits, what
        self._parent, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_child, args=(child, func, args, limits), daemon=True)
        self._proc.start()
        child.close()

    def cancel(self) -> None:
        """Stop the child (when the reading is abandoned)."""
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()
        self._parent.close()

    def result(self) -> T:
        limits, what = self.limits, self.what
        payload: bytes | None = None
        try:
            payload = self._parent.recv_bytes()
        except EOFError:
            payload = None
        finally:
            self._proc.join()
            self._parent.close()
        if payload is None:
            code = self._proc.exitcode
            if code is not None and code < 0 and -code == 24:  # SIGXCPU
                raise UploadRefused("PARSE_LIMIT", "Reading '{what}' took longer than {limit} s "
                                    "of CPU.", what=what, limit=limits.cpu_seconds)
            raise UploadRefused("PARSE_CRASHED", "Reading '{what}' stopped the reader (exit "
                                "{exit}); the file is damaged or hostile.", what=what, exit=code)
        status, value = pickle.loads(payload)  # noqa: S301 - our own child's output
        if status == "ok":
            return value  # type: ignore[no-any-return]
        if status == "refused":
            code, template, params = value
            raise UploadRefused(code, template, **params)
        if status == "limit":
            raise UploadRefused("PARSE_LIMIT", "Reading '{what}' needed more than {limit} bytes "
                                "of memory.", what=what, limit=limits.memory_bytes)
        raise UploadRefused("NOT_GEODATA", "'{what}' could not be read as geodata: {reason}",
                            what=what, reason=value)


def start_limited[T](func: Callable[..., T], *args: Any, limits: Limits,
                     what: str) -> Pending[T]:
    """Start ``func(*args)`` in a limited child process; the caller goes on meanwhile."""
    return Pending(func, args, limits=limits, what=what)


def run_limited[T](func: Callable[..., T], *args: Any, limits: Limits, what: str) -> T:
    """Run ``func(*args)`` in a child process under memory and CPU limits.

    The child's result comes back pickled through a pipe. A child killed by a
    signal (segfault in GDAL/GEOS, CPU limit) or out of memory becomes an
    :class:`UploadRefused`; the server process is untouched.
    """
    return start_limited(func, *args, limits=limits, what=what).result()
