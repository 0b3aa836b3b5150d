"""Sign-in throttling: every password, token or directory check goes through one path.

Every sign-in, whatever the client, is Django's ``authenticate()``: the web form and
the admin's form (``AuthenticationForm``), HTTP Basic on ``/ogc/`` with a password
or a personal access token (:mod:`ogc_api.auth`), and the directory (LDAP) backend
(:mod:`gis_core.directory`) when ``KENTCBS_LDAP_URI`` is set. django-axes sits first in that
list (``AxesStandaloneBackend``): after ``AXES_FAILURE_LIMIT`` failures for one
account, or from one address, within ``AXES_COOLOFF_TIME``, every further attempt
for that account or from that address is refused until the cool-off passes or a GIS
administrator unlocks it (``kentcbs unlock``, or the "unlock" action on axes'
access attempts in the admin, ``gis_core.admin.FailedSignInAdmin``). A successful
form sign-in clears the account's and the address's failures.

Every failure is logged here (logger ``kentcbs.signin``) and kept in axes'
failure log (``AccessFailureLog``, visible in the admin).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

log = logging.getLogger("kentcbs.signin")

#: Shown on the sign-in form (and in /ogc/ answers) while an account or address is locked
#: (an English msgid, ``str.format`` style like :func:`gis_core.errors.bilingual`).
LOCKED_MESSAGE = ("Too many failed sign-in attempts: this account or address is locked for "
                  "{minutes} minutes. Try again later, or ask the GIS administrator to "
                  "unlock it.")


#: Why a sign-in was refused, when a backend knows more than "no" (the directory does):
#: kept on the request by :func:`note_problem`, shown by the sign-in form
#: (``web.forms.SignInForm``). English msgids, Turkish in gis_core's catalogue.
BAD_CREDENTIALS = "bad_credentials"
DIRECTORY_DISABLED = "directory_disabled"
DIRECTORY_NO_GROUP = "directory_no_group"
DIRECTORY_UNREACHABLE = "directory_unreachable"
DIRECTORY_MISCONFIGURED = "directory_misconfigured"
PROBLEM_MESSAGES = {
    BAD_CREDENTIALS: "The user name or the password is wrong.",
    DIRECTORY_DISABLED: ("Your directory account is disabled. Ask the IT directorate "
                         "(Bilgi İşlem Müdürlüğü) to enable it."),
    DIRECTORY_NO_GROUP: ("Your directory account is in no group that KentCBS knows, so it has "
                         "no department or role here. Ask the IT directorate (Bilgi İşlem "
                         "Müdürlüğü) to add you to your department's KentCBS group."),
    DIRECTORY_UNREACHABLE: ("The directory server cannot be reached, so directory accounts "
                            "cannot sign in now. Try again in a few minutes; local KentCBS "
                            "accounts still sign in."),
    DIRECTORY_MISCONFIGURED: ("Directory sign-in is not set up correctly, so directory "
                              "accounts cannot sign in now. Please tell the IT directorate "
                              "(Bilgi İşlem Müdürlüğü); local KentCBS accounts still sign in."),
}


def note_problem(request: HttpRequest | None, problem: str) -> None:
    """Record on ``request`` why its sign-in was refused (the last word wins)."""
    if request is not None:
        request.kentcbs_signin_problem = problem  # type: ignore[attr-defined]


def signin_problem(request: HttpRequest | None) -> str | None:
    """Why the last ``authenticate()`` on ``request`` was refused, if a backend said."""
    return getattr(request, "kentcbs_signin_problem", None) if request is not None else None


def problem_message(problem: str | None) -> str:
    """The refusal in the active language; a plain "wrong password" when nobody said more."""
    return gettext(PROBLEM_MESSAGES.get(problem or BAD_CREDENTIALS,
                                        PROBLEM_MESSAGES[BAD_CREDENTIALS]))


def not_a_guess(request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
    """``AXES_WHITELIST_CALLABLE``: a refusal that checked no password is no failure.

    While the directory cannot be reached or is set up wrongly (its service account
    refused, its group map unreadable), the user's password was not what failed: those
    refusals do not count towards the lockout (a directory outage would otherwise lock
    the municipality's shared address, the local administrator's included). Before
    ``authenticate()`` runs the flag is never set, so lockouts are enforced as always.
    """
    return signin_problem(request) in (DIRECTORY_UNREACHABLE, DIRECTORY_MISCONFIGURED)


def client_address(request: HttpRequest) -> str:
    """``AXES_CLIENT_IP_CALLABLE``: the caller's address.

    ``REMOTE_ADDR``, or behind ``KENTCBS_PROXY_COUNT`` reverse proxies the address the
    outermost of them saw (X-Forwarded-For, counted from the right: the part a client
    cannot forge).
    """
    from django.conf import settings

    address = request.META.get("REMOTE_ADDR", "") or ""
    proxies = getattr(settings, "KENTCBS_PROXY_COUNT", 0)
    if proxies > 0:
        hops = [part.strip() for part in
                request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    return address[:45]


def cool_off_minutes() -> int:
    """The lockout's length in whole minutes (``AXES_COOLOFF_TIME``)."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off()
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else 0


def locked_message() -> str:
    """The lockout message in the active language (Turkish unless the user chose English)."""
    return gettext(LOCKED_MESSAGE).format(minutes=cool_off_minutes())


def is_locked_out(request: HttpRequest) -> bool:
    """Whether the last ``authenticate()`` on this request was refused by the lockout."""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict[str, Any] | None = None) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: what a locked-out sign-in gets (429).

    A view that answered the lockout itself (the OGC API's JSON 429) keeps its answer;
    a sign-in form (KentCBS's or the admin's) is shown again with the message.
    """
    if original_response is not None and original_response.status_code == 429:
        return original_response
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    response = render(request, "web/login.html", {"form": form, "locked": locked_message(),
                                                   "next": request.POST.get("next", "")},
                      status=429)
    response["Retry-After"] = str(cool_off_minutes() * 60)
    return response


def log_failure(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                **kwargs: Any) -> None:
    """``user_login_failed`` receiver: one log line for every failed sign-in."""
    address = client_address(request) if request is not None else ""
    path = request.path if request is not None else ""
    log.warning("sign-in failed: user=%r address=%s path=%s locked=%s",
                str(credentials.get("username", ""))[:150], address, path,
                is_locked_out(request) if request is not None else False)


def unlock(*, username: str | None = None, address: str | None = None) -> int:
    """Clear the failures of an account and/or an address; return how many rows went.

    Examples
    --------
    >>> unlock(username="bim.mudur")  # doctest: +SKIP
    1
    """
    from axes.utils import reset

    if not username and not address:
        raise ValueError("username or address")
    count = 0
    if username:
        count += reset(username=username)
    if address:
        count += reset(ip=address)
    log.info("sign-in unlocked: user=%r address=%s (%d records)", username or "",
             address or "", count)
    return count


def recent_failures() -> list[dict[str, Any]]:
    """Failure records still within the cool-off (account, address, count), newest first."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.utils import timezone

    rows = AccessAttempt.objects.all()
    cool_off = get_cool_off()
    if cool_off is not None:
        rows = rows.filter(attempt_time__gte=timezone.now() - cool_off)
    return [{"username": row.username or "", "address": row.ip_address or "",
             "failures": row.failures_since_start, "last": row.attempt_time}
            for row in rows.order_by("-attempt_time")]
