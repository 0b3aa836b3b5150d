"""RFC 3161 time stamps through ``openssl ts`` (the query, the reply's verification) and
one HTTP POST to the time-stamp authority (``KENTCBS_TSA_URL``: Kamu SM or any RFC 3161
service). ``openssl`` is part of every Debian system; no Python RFC 3161 library is kept
as well as it is (``rfc3161ng`` has had no release since 2021)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from modules.netops.errors import NetopsError


def _openssl() -> str:
    found = shutil.which("openssl")
    if not found:
        raise NetopsError("NETOPS_NO_OPENSSL",
                          "openssl is not installed (apt-get install openssl).")
    return found


def _run(args: list[str], *, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    command = [_openssl(), *args]
    return subprocess.run(command, input=data, capture_output=True,  # noqa: S603 (openssl)
                          check=False, timeout=60)


def tsa_url() -> str:
    url = getattr(settings, "KENTCBS_TSA_URL", "")
    if not url:
        raise NetopsError("NETOPS_NO_TSA",
                          "No time-stamp authority: set KENTCBS_TSA_URL to an RFC 3161 service "
                          "(e.g. Kamu SM's) so that the day's file can be time stamped.")
    return url


def stamp(path: Path) -> tuple[Path, dt.datetime]:
    """Ask the TSA for a token over ``path``'s SHA-256; write ``<path>.tsr`` and return it
    with the time the TSA put in it. The reply is verified before it is kept."""
    url = tsa_url()
    query = _run(["ts", "-query", "-data", str(path), "-sha256", "-cert"])
    if query.returncode != 0:
        raise NetopsError("NETOPS_TSA_QUERY", "openssl could not build the time-stamp query: "
                          "{detail}", detail=query.stderr.decode(errors="replace").strip()[:200])
    if not url.startswith(("http://", "https://")):
        raise NetopsError("NETOPS_NO_TSA", "KENTCBS_TSA_URL must be an http:// or https:// "
                          "address, not '{url}'.", url=url[:80])
    request = urllib.request.Request(  # noqa: S310 (http or https, checked above)
        url, data=query.stdout, method="POST",
                                     headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (configured URL)
            reply = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise NetopsError("NETOPS_TSA_UNREACHABLE",
                          "The time-stamp authority at {url} did not answer ({detail}). The day "
                          "is not archived; run the command again when it answers.",
                          url=url, detail=str(getattr(exc, "reason", exc))[:120]) from None
    token = path.with_name(path.name + ".tsr")
    query_file = path.with_name(path.name + ".tsq")
    query_file.write_bytes(query.stdout)
    token.write_bytes(reply)
    problem = verify(path, token)
    if problem:
        token.unlink(missing_ok=True)
        raise NetopsError("NETOPS_TSA_BAD_REPLY", "The time-stamp authority's reply does not "
                          "verify: {detail}", detail=problem)
    return token, stamped_at(token)


def verify(path: Path, token: Path) -> str:
    """'' when ``token`` is a valid RFC 3161 token over ``path`` signed by a TSA that
    ``KENTCBS_TSA_CA_FILE`` trusts; else what is wrong."""
    if not token.is_file():
        return "time-stamp token missing"
    ca_file = getattr(settings, "KENTCBS_TSA_CA_FILE", "")
    if not ca_file:
        return "KENTCBS_TSA_CA_FILE is not set: the token's signer cannot be checked"
    result = _run(["ts", "-verify", "-data", str(path), "-in", str(token), "-CAfile", ca_file])
    if result.returncode != 0 or b"Verification: OK" not in result.stdout:
        return (result.stderr or result.stdout).decode(errors="replace").strip()[:200] or \
            "verification failed"
    return ""


def stamped_at(token: Path) -> dt.datetime:
    text = _run(["ts", "-reply", "-in", str(token), "-text"]).stdout.decode(errors="replace")
    match = re.search(r"Time stamp:\s*(.+)", text)
    if not match:
        raise NetopsError("NETOPS_TSA_BAD_REPLY", "The time-stamp authority's reply has no time.")
    value = re.sub(r"\s+GMT$", "", match.group(1).strip())
    parsed = dt.datetime.strptime(re.sub(r"\.\d+", "", value), "%b %d %H:%M:%S %Y")
    return parsed.replace(tzinfo=dt.UTC)
