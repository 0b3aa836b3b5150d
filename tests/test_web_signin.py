"""Sign-in: throttling (django-axes) on every path, unlock, sign-out, hostile Authorization.

Every sign-in goes through ``authenticate()``: the sign-in form, HTTP Basic on /ogc/
with a password or a token. Ten failures for one account, or from one address,
lock it for the cool-off; a GIS administrator unlocks it (``kentcbs unlock`` or the
admin). The test client's address is ``REMOTE_ADDR``; other addresses are given
explicitly.
"""

from __future__ import annotations

import base64
import logging
import socket

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from ogc_api.services import create_token
from tests.people import member, member_of, signed_in

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT
PASSWORD = "x"  # tests.people's password


def _basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def _sign_in(client: Client, username: str, password: str, address: str = "10.1.1.1"):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


# -- the Authorization header on /ogc/ ------------------------------------------------------
@pytest.mark.parametrize("header", [
    "Basic", "Basic ", "Basic    ", "Bearer abc.def.ghi", "Negotiate YIIB", "Digest x", "",
    "Basic ###", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b":only-secret").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\x80").decode(),
    "Basic \u00e7\u00f6\u011f",  # non-ASCII (latin-1 text from WSGI: bytes above 0x7f)
    "Basic \u00ff\u00fe\u00fd==",
])
def test_unusable_authorization_is_401_with_a_challenge(client: Client, header: str) -> None:
    response = client.get("/ogc/collections", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, header
    assert response["WWW-Authenticate"].startswith("Basic ")
    body = response.json()
    assert body["code"] == "Unauthorized"
    assert body["description"].startswith("kullanıcı adı, parola ya da anahtar yanlış")


def test_non_ascii_basic_bytes_over_real_http(live_server) -> None:
    """Raw bytes above 0x7f in the header, as a client puts them on the wire: 401, not 500."""
    host, port = live_server.url.removeprefix("http://").split(":")
    for raw in (b"Basic \xc3\xa7\xc3\xb6:\xff", b"Basic \xff\xfe", b"Bearer \xe9t\xe9"):
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(b"GET /ogc/collections HTTP/1.1\r\nHost: " + host.encode()
                         + b"\r\nAuthorization: " + raw + b"\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.split()[1] == b"401", (raw, status_line)
        assert b"www-authenticate: basic" in rest.lower()


# -- the sign-in form ----------------------------------------------------------------------
def test_form_locks_an_account_after_the_limit_then_unlock(caplog) -> None:
    member("bim.mudur", "bilgi_islem", "manager")
    client = Client()
    caplog.set_level(logging.WARNING, logger="kentcbs.signin")
    for i in range(LIMIT - 1):
        response = _sign_in(client, "bim.mudur", f"wrong-{i}", address=f"10.0.0.{i + 1}")
        assert response.status_code == 200  # the form again, with its error
    failures = [r for r in caplog.records if r.name == "kentcbs.signin"]
    assert len(failures) == LIMIT - 1  # every failure is logged
    assert all("bim.mudur" in r.getMessage() for r in failures)
    # the limit-th failure locks the account, from whichever address
    locked = _sign_in(client, "bim.mudur", "wrong-last", address="10.0.9.9")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Çok fazla başarısız giriş denemesi" in text
    # ... and now even the right password is refused, from a new address too
    refused = _sign_in(client, "bim.mudur", PASSWORD, address="10.0.9.10")
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    assert "Çok fazla başarısız giriş denemesi" in refused.content.decode()
    # another account is not affected
    member("park.veri", "park_bahceler", "data_entry")
    assert _sign_in(Client(), "park.veri", PASSWORD, address="10.0.9.11").status_code == 302

    call_command("unlock", "bim.mudur")
    ok = _sign_in(client, "bim.mudur", PASSWORD, address="10.0.9.10")
    assert ok.status_code == 302 and ok["Location"] == "/"


def test_form_locks_an_address_spraying_many_accounts() -> None:
    for i in range(LIMIT):
        member(f"kisi{i}", "bilgi_islem")
    sprayer = "10.5.5.5"
    for i in range(LIMIT):
        _sign_in(Client(), f"kisi{i}", "Parola123", address=sprayer)
    # from that address nobody signs in any more, the right password included
    assert _sign_in(Client(), "kisi0", PASSWORD, address=sprayer).status_code == 429
    # from another address the same account signs in (one failure for kisi0 only)
    assert _sign_in(Client(), "kisi0", PASSWORD, address="10.5.5.6").status_code == 302
    call_command("unlock", "--address", sprayer)
    assert _sign_in(Client(), "kisi1", PASSWORD, address=sprayer).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures() -> None:
    member("ayse", "bilgi_islem")
    client = Client()
    for _round in range(3):  # 3 × (limit - 1) failures, each round ended by a success
        for i in range(LIMIT - 1):
            _sign_in(client, "ayse", f"yanlis{i}")
        assert _sign_in(client, "ayse", PASSWORD).status_code == 302
        client.post("/accounts/logout/")


# -- HTTP Basic on /ogc/: passwords and tokens ---------------------------------------------
def test_basic_password_and_token_guessing_is_locked(caplog) -> None:
    user = member_of("gis.uzman", ("bilgi_islem", "gis_admin"))
    _row, token = create_token(username=user.username, name="QGIS")
    client = Client()
    assert client.get("/ogc/collections/bina",
                      HTTP_AUTHORIZATION=_basic("gis.uzman", token)).status_code == 200
    caplog.set_level(logging.WARNING, logger="kentcbs.signin")
    for i in range(LIMIT - 1):
        wrong = client.get("/ogc/collections", REMOTE_ADDR=f"10.2.0.{i}",
                           HTTP_AUTHORIZATION=_basic("gis.uzman", f"kcbs_wrong{i}" if i % 2
                                                     else f"parola{i}"))
        assert wrong.status_code == 401
    assert len([r for r in caplog.records if r.name == "kentcbs.signin"]) == LIMIT - 1
    last = client.get("/ogc/collections", HTTP_AUTHORIZATION=_basic("gis.uzman", "kcbs_x"))
    assert last.status_code == 429
    assert last.json()["code"] == "AccountLocked"
    assert last.json()["description"].startswith("Çok fazla başarısız giriş denemesi")
    assert int(last["Retry-After"]) > 0
    # the right token and the right password are refused while locked
    for secret in (token, PASSWORD):
        response = client.get("/ogc/collections/bina",
                              HTTP_AUTHORIZATION=_basic("gis.uzman", secret))
        assert response.status_code == 429, secret
    call_command("unlock", "gis.uzman")
    for secret in (token, PASSWORD):
        response = client.get("/ogc/collections/bina",
                              HTTP_AUTHORIZATION=_basic("gis.uzman", secret))
        assert response.status_code == 200, secret


def test_a_token_does_not_sign_in_on_the_form() -> None:
    user = member("token.sahibi", "bilgi_islem")
    _row, token = create_token(username=user.username, name="QGIS")
    response = _sign_in(Client(), "token.sahibi", token)
    assert response.status_code == 200 and "_auth_user_id" not in response.client.session


# -- unlocking: the command and the admin --------------------------------------------------
def test_unlock_command_lists_and_refuses_nothing(capsys) -> None:
    member("veli", "bilgi_islem")
    _sign_in(Client(), "veli", "yanlis", address="10.3.3.3")
    call_command("unlock", "--list")
    out = capsys.readouterr().out
    assert "veli" in out and "10.3.3.3" in out
    from gis_core.errors import KentCBSError

    with pytest.raises(KentCBSError) as error:
        call_command("unlock")
    assert error.value.code == "UNLOCK_NOTHING"


def test_gis_administrator_unlocks_in_the_admin() -> None:
    from axes.models import AccessAttempt

    member("kilitli", "bilgi_islem")
    for i in range(LIMIT):
        _sign_in(Client(), "kilitli", f"yanlis{i}", address="10.4.4.4")
    assert _sign_in(Client(), "kilitli", PASSWORD, address="10.4.4.5").status_code == 429
    attempts = list(AccessAttempt.objects.filter(username="kilitli").values_list("pk", flat=True))
    assert len(attempts) == 2  # one record per address

    staff_viewer = member("gorevli", "bilgi_islem", "viewer")
    staff_viewer.is_staff = True
    staff_viewer.save()
    viewer = signed_in(staff_viewer)
    assert viewer.get("/admin/axes/accessattempt/").status_code == 403
    viewer.post("/admin/axes/accessattempt/", {"action": "unlock",
                                               "_selected_action": attempts[:1]})
    assert AccessAttempt.objects.filter(username="kilitli").exists()

    admin_user = member_of("cbs.admin", ("cbs", "gis_admin"))
    admin_user.is_staff = True
    admin_user.save()
    admin = signed_in(admin_user)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "kilitli" in listing.content.decode()
    admin.post("/admin/axes/accessattempt/", {"action": "unlock",
                                              "_selected_action": attempts[:1]})
    assert not AccessAttempt.objects.filter(username="kilitli").exists()
    assert _sign_in(Client(), "kilitli", PASSWORD, address="10.4.4.5").status_code == 302
    assert admin.get("/admin/axes/accessfailurelog/").status_code == 200


# -- signing out ---------------------------------------------------------------------------
def test_sign_out_ends_on_the_kentcbs_sign_in_page() -> None:
    client = signed_in(member("cikan", "bilgi_islem"))
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    text = response.content.decode()
    assert 'id="id_username"' in text and "KentCBS" in text
    assert "Oturum kapatıldı" not in text and "Logged out" not in text
    assert "_auth_user_id" not in client.session
