"""Directory sign-in against a real OpenLDAP server (Debian's slapd, started for the session).

Departments are OUs and roles are groups in the test directory (``tests/directory.py``);
KentCBS gets the group map of every group there. Sign-ins go through the real sign-in
form (``/accounts/login/``) and ``authenticate()``, django-axes included; a browser test
signs in with a directory account through Chromium.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from gis_core.directory.config import directory_settings
from gis_core.directory.groups import GroupMapError, normalise_dn, parse_group_map
from gis_core.models import Membership
from tests import directory as testdir
from tests.conftest import ROOT, free_port
from tests.people import member_of

BACKEND = "gis_core.directory.backend.DirectoryBackend"
WRONG = "Kullanıcı adı ya da parola yanlış."
DISABLED = "Dizin (Active Directory/LDAP) hesabınız devre dışı bırakılmış."
NO_GROUP = "Dizin hesabınız KentCBS'nin tanıdığı hiçbir grupta değil"
UNREACHABLE = "Dizin sunucusuna (Active Directory/LDAP) ulaşılamıyor"
MISCONFIGURED = "Dizin ile giriş doğru ayarlanmamış"


@pytest.fixture(scope="session")
def slapd() -> Iterator[testdir.Directory]:
    """One real directory server for the session; stopped at its end."""
    with testdir.start_directory() as running:
        yield running


def _env(uri: str, groups_file: Path) -> dict[str, str]:
    return {
        "KENTCBS_LDAP_URI": uri,
        "KENTCBS_LDAP_BIND_DN": testdir.SERVICE_DN,
        "KENTCBS_LDAP_BIND_PASSWORD": testdir.SERVICE_PASSWORD,
        "KENTCBS_LDAP_USER_BASE": testdir.PEOPLE,
        "KENTCBS_LDAP_USER_FILTER": "(uid=%(user)s)",
        "KENTCBS_LDAP_GROUP_BASE": testdir.GROUPS,
        "KENTCBS_LDAP_GROUP_FILTER": "(objectClass=groupOfNames)",
        "KENTCBS_LDAP_DISABLED_FILTER": "(pwdAccountLockedTime=*)",
        "KENTCBS_LDAP_GROUPS_FILE": str(groups_file),
    }


def _switch_on(settings, env: dict[str, str], home: Path) -> None:
    """What gis_core.settings does with these variables, for this test only."""
    for name, value in directory_settings(env, home=home).items():
        setattr(settings, name, value)
    if BACKEND not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]


@pytest.fixture
def groups_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory-groups.yaml"
    path.write_text(testdir.GROUP_MAP, encoding="utf-8")
    return path


@pytest.fixture
def directory_on(settings, slapd: testdir.Directory, groups_file: Path,
                 tmp_path: Path) -> testdir.Directory:
    _switch_on(settings, _env(slapd.uri, groups_file), tmp_path)
    return slapd


def _sign_in(username: str, password: str, client: Client | None = None,
             address: str = "10.9.0.1"):
    client = client or Client()
    response = client.post("/accounts/login/", {"username": username, "password": password},
                           REMOTE_ADDR=address)
    return client, response


def _pairs(username: str) -> set[tuple[str, str]]:
    return set(Membership.objects.filter(user__username=username)
               .values_list("department__code", "role"))


def _refused(response, message: str) -> str:
    assert response.status_code == 200, response.status_code
    text = html.unescape(response.content.decode())
    assert message in text, text[:3000]
    assert "Traceback" not in text
    return text


# -- the group map -----------------------------------------------------------------------
def test_group_map_matches_dns_as_ldap_does_and_refuses_bad_entries() -> None:
    gmap = parse_group_map(testdir.GROUP_MAP)
    upper = testdir.group_dn("bilgi_islem", "technician").upper().replace(",", ", ")
    assert gmap.memberships([upper, "cn=yazicilar,ou=other,dc=belediye,dc=local"]) == {
        ("bilgi_islem", "technician")}
    assert normalise_dn("CN=A , OU=B,DC=c") == "cn=a,ou=b,dc=c"
    with pytest.raises(GroupMapError) as bad_role:
        parse_group_map("groups:\n  - {dn: 'cn=a,dc=b', department: cbs, role: admin}\n")
    assert bad_role.value.code == "LDAP_GROUPS_FILE_INVALID"
    assert "groups.0.role" in bad_role.value.text
    with pytest.raises(GroupMapError):
        parse_group_map("groups:\n  - {dn: 'not a dn', department: cbs, role: viewer}\n")
    with pytest.raises(GroupMapError):
        parse_group_map("groups: [\n")


def test_group_map_roles_are_the_kentcbs_roles() -> None:
    from typing import get_args

    from gis_core.choices import RoleChoices
    from gis_core.directory.groups import Role

    assert set(get_args(Role)) == set(RoleChoices.values)


def test_directory_is_off_without_its_uri_and_wired_by_the_environment(tmp_path: Path,
                                                                       groups_file: Path) -> None:
    """gis_core.settings: unset → no directory backend; set → last, after ModelBackend."""
    probe = ("import django, json; from django.conf import settings; django.setup(); "
             "print(json.dumps([settings.AUTHENTICATION_BACKENDS, "
             "settings.KENTCBS_LDAP_ENABLED, str(getattr(settings, "
             "'KENTCBS_LDAP_GROUPS_FILE', ''))]))")
    base = {k: v for k, v in os.environ.items() if not k.startswith("KENTCBS_LDAP_")}
    base["DJANGO_SETTINGS_MODULE"] = "gis_core.settings"
    off = subprocess.run([sys.executable, "-c", probe], env=base, cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=120)
    backends, enabled, _path = json.loads(off.stdout.splitlines()[-1])
    assert enabled is False and BACKEND not in backends
    env = {**base, "KENTCBS_LDAP_URI": "ldap://127.0.0.1:1",
           "KENTCBS_LDAP_GROUPS_FILE": str(groups_file)}
    on = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT,
                        capture_output=True, text=True, check=True, timeout=120)
    backends, enabled, path = json.loads(on.stdout.splitlines()[-1])
    assert enabled is True and path == str(groups_file)
    assert backends[-1] == BACKEND
    assert backends.index("django.contrib.auth.backends.ModelBackend") < backends.index(BACKEND)
    # a group map that cannot be read fails `kentcbs check` with directory.E001
    kentcbs = shutil.which("kentcbs", path=str(Path(sys.executable).parent))
    assert kentcbs
    missing = {**env, "KENTCBS_LDAP_GROUPS_FILE": str(tmp_path / "yok.yaml")}
    check = subprocess.run([kentcbs, "check"], env=missing, capture_output=True, text=True,
                           check=False, timeout=120)
    assert check.returncode != 0
    assert "directory.E001" in check.stderr + check.stdout
    assert "Traceback" not in check.stderr


def test_bootstrap_installs_what_directory_sign_in_and_its_tests_need() -> None:
    """python-ldap builds from source; the tests need slapd: a clean machine gets them."""
    listed = subprocess.run([str(ROOT / "bootstrap.sh"), "packages"], capture_output=True,
                            text=True, check=True, timeout=60).stdout.split()
    wanted = ["libldap2-dev", "libsasl2-dev", "gcc", "slapd", "ldap-utils", "ca-certificates"]
    assert set(wanted) <= set(listed), listed
    # apt resolves them without recommends (a dry run); openssl (the test CA) comes with
    # ca-certificates
    dry = subprocess.run(["apt-get", "install", "-s", "--no-install-recommends", *wanted],
                         capture_output=True, text=True, check=False, timeout=120)
    assert dry.returncode == 0, dry.stderr
    depends = subprocess.run(["apt-cache", "depends", "ca-certificates"], capture_output=True,
                             text=True, check=True, timeout=60).stdout
    assert "Depends: openssl" in depends


# -- sign-in through the form --------------------------------------------------------------
@pytest.mark.django_db
def test_first_sign_in_creates_the_user_with_the_mapped_department_and_role(
        directory_on) -> None:
    assert not User.objects.filter(username="ayse.teknik").exists()
    client, response = _sign_in("ayse.teknik", "Ayse-Parola-1")
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="ayse.teknik")
    assert (user.first_name, user.last_name, user.email) == (
        "Ayşe", "Teknik", "ayse.teknik@belediye.local")
    assert not user.has_usable_password()  # the password stays in the directory
    assert _pairs("ayse.teknik") == {("bilgi_islem", "technician")}  # not cn=yazicilar
    assert set(user.groups.values_list("name", flat=True)) == {"kentcbs:technician"}
    home = client.get("/")
    assert "Bilgi İşlem Müdürlüğü" in home.content.decode()
    # the name is the directory's, however it is typed: the same KentCBS user
    _client, again = _sign_in("AYSE.Teknik", "Ayse-Parola-1")
    assert again.status_code == 302
    assert User.objects.filter(username__iexact="ayse.teknik").count() == 1


@pytest.mark.django_db
def test_qgis_signs_in_to_the_ogc_api_with_a_directory_account(directory_on) -> None:
    """HTTP Basic on /ogc/ is authenticate() too: a directory password works there."""
    import base64

    def basic(username: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    client = Client()
    ok = client.get("/ogc/collections", HTTP_AUTHORIZATION=basic("mehmet.park",
                                                                  "Mehmet-Parola-1"))
    assert ok.status_code == 200
    assert _pairs("mehmet.park") == {("park_bahceler", "data_entry")}
    wrong = client.get("/ogc/collections", HTTP_AUTHORIZATION=basic("mehmet.park", "yanlis"))
    assert wrong.status_code == 401
    no_group = client.get("/ogc/collections",
                          HTTP_AUTHORIZATION=basic("grupsuz", "Grupsuz-Parola-1"))
    assert no_group.status_code == 401


@pytest.mark.django_db
def test_memberships_follow_the_directory_at_every_sign_in(directory_on) -> None:
    fen = testdir.group_dn("fen_isleri", "data_entry")
    imar = testdir.group_dn("imar_sehircilik", "viewer")
    manager = testdir.group_dn("bilgi_islem", "manager")
    assert _sign_in("zeynep.fen", "Zeynep-Parola-1")[1].status_code == 302
    assert _pairs("zeynep.fen") == {("fen_isleri", "data_entry")}
    try:
        # moved: out of Fen İşleri, into İmar (viewer) and Bilgi İşlem (manager)
        directory_on.remove_member(fen, "zeynep.fen")
        directory_on.add_member(imar, "zeynep.fen")
        directory_on.add_member(manager, "zeynep.fen")
        assert _pairs("zeynep.fen") == {("fen_isleri", "data_entry")}  # until she signs in
        assert _sign_in("zeynep.fen", "Zeynep-Parola-1")[1].status_code == 302
        assert _pairs("zeynep.fen") == {("imar_sehircilik", "viewer"),
                                        ("bilgi_islem", "manager")}
        user = User.objects.get(username="zeynep.fen")
        assert set(user.groups.values_list("name", flat=True)) == {"kentcbs:viewer",
                                                                   "kentcbs:manager"}
        # out of every KentCBS group: refused, and her memberships go too
        directory_on.remove_member(imar, "zeynep.fen")
        directory_on.remove_member(manager, "zeynep.fen")
        _refused(_sign_in("zeynep.fen", "Zeynep-Parola-1")[1], NO_GROUP)
        assert _pairs("zeynep.fen") == set()
    finally:  # the session's directory as it was
        import ldap

        for group, should in ((fen, True), (imar, False), (manager, False)):
            with contextlib.suppress(ldap.TYPE_OR_VALUE_EXISTS, ldap.NO_SUCH_ATTRIBUTE):
                (directory_on.add_member if should else directory_on.remove_member)(
                    group, "zeynep.fen")


@pytest.mark.django_db
def test_wrong_password_and_unknown_name(directory_on) -> None:
    from axes.models import AccessAttempt

    _refused(_sign_in("ayse.teknik", "yanlis-parola")[1], WRONG)
    _refused(_sign_in("kimse.yok", "bir-parola")[1], WRONG)
    assert not User.objects.filter(username__in=["ayse.teknik", "kimse.yok"]).exists()
    # a wrong password is a failure towards the lockout (django-axes)
    assert AccessAttempt.objects.filter(username="ayse.teknik").exists()


@pytest.mark.django_db
def test_a_disabled_directory_account_is_told_so(directory_on) -> None:
    # kapali.hesap is in the Park ve Bahçeler data-entry group, but locked in the directory
    text = _refused(_sign_in("kapali.hesap", "Kapali-Parola-1")[1], DISABLED)
    assert "Bilgi İşlem Müdürlüğü'ne başvurun" in text
    assert not User.objects.filter(username="kapali.hesap").exists()
    # ... with a wrong password too (the directory refuses both binds alike)
    _refused(_sign_in("kapali.hesap", "baska")[1], DISABLED)


@pytest.mark.django_db
def test_an_account_disabled_later_loses_its_sessions_until_enabled_again(directory_on) -> None:
    earlier, response = _sign_in("ayse.teknik", "Ayse-Parola-1")
    assert response.status_code == 302
    assert earlier.get("/").context["user"].is_authenticated
    directory_on.lock("ayse.teknik")
    try:
        _refused(_sign_in("ayse.teknik", "Ayse-Parola-1")[1], DISABLED)
        assert not User.objects.get(username="ayse.teknik").is_active
        assert not earlier.get("/").context["user"].is_authenticated  # its session ended
    finally:
        directory_on.lock("ayse.teknik", locked=False)
    assert _sign_in("ayse.teknik", "Ayse-Parola-1")[1].status_code == 302
    assert User.objects.get(username="ayse.teknik").is_active


@pytest.mark.django_db
def test_a_user_in_no_mapped_group_is_told_so(directory_on) -> None:
    _refused(_sign_in("grupsuz", "Grupsuz-Parola-1")[1], NO_GROUP)
    assert _pairs("grupsuz") == set()
    # ... but a wrong password is just a wrong password
    _refused(_sign_in("grupsuz", "yanlis")[1], WRONG)


@pytest.mark.django_db
def test_the_directory_never_takes_over_a_local_account(directory_on) -> None:
    member_of("ayse.teknik", ("cbs", "viewer"))  # a local account, password "x"
    _refused(_sign_in("ayse.teknik", "Ayse-Parola-1")[1], WRONG)
    assert _pairs("ayse.teknik") == {("cbs", "viewer")}
    assert _sign_in("ayse.teknik", "x")[1].status_code == 302


@pytest.mark.django_db
def test_directory_down_is_told_and_the_local_administrator_still_signs_in(
        settings, groups_file: Path, tmp_path: Path, slapd) -> None:
    from axes.models import AccessAttempt

    # Nothing listens on this port: the directory is unreachable.
    _switch_on(settings, _env(f"ldap://127.0.0.1:{free_port()}", groups_file), tmp_path)
    admin = member_of("yerel.yonetici", ("bilgi_islem", "gis_admin"), superuser=True)
    address = "10.9.9.9"
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 2):
        _refused(_sign_in("mehmet.park", "Mehmet-Parola-1", address=address)[1], UNREACHABLE)
    # no password was checked: no failure counted, the shared address is not locked
    assert not AccessAttempt.objects.filter(ip_address=address).exists()
    client, response = _sign_in("yerel.yonetici", "x", address=address)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin.pk
    # the local administrator's wrong password is a wrong password, not "directory down"
    _refused(_sign_in("yerel.yonetici", "yanlis", address=address)[1], WRONG)


@pytest.mark.django_db
@pytest.mark.parametrize("wrong", ["service password", "group map", "user base"])
def test_a_directory_set_up_wrongly_is_told_and_not_counted(
        settings, slapd, groups_file: Path, tmp_path: Path, wrong: str) -> None:
    from axes.models import AccessAttempt

    env = _env(slapd.uri, groups_file)
    if wrong == "service password":
        env["KENTCBS_LDAP_BIND_PASSWORD"] = "eski-parola"
    elif wrong == "group map":
        env["KENTCBS_LDAP_GROUPS_FILE"] = str(tmp_path / "yok.yaml")
    else:
        env["KENTCBS_LDAP_USER_BASE"] = "ou=yok,dc=belediye,dc=local"
    _switch_on(settings, env, tmp_path)
    _refused(_sign_in("mehmet.park", "Mehmet-Parola-1")[1], MISCONFIGURED)
    assert not User.objects.filter(username="mehmet.park").exists()
    assert not AccessAttempt.objects.filter(username="mehmet.park").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["starttls", "ldaps"])
def test_tls_to_the_directory_is_verified_against_the_given_ca(
        settings, slapd, groups_file: Path, tmp_path: Path, mode: str) -> None:
    env = {**_env(slapd.uri if mode == "starttls" else slapd.ldaps_uri, groups_file),
           "KENTCBS_LDAP_CA_FILE": str(slapd.ca_file)}
    if mode == "starttls":
        env["KENTCBS_LDAP_START_TLS"] = "1"
    _switch_on(settings, env, tmp_path)
    assert _sign_in("ayse.teknik", "Ayse-Parola-1")[1].status_code == 302
    # a certificate from a CA it was not told to trust: no sign-in, no traceback
    other = tmp_path / "other"
    other.mkdir()
    testdir.make_certificates(other, name="other-ca")
    _switch_on(settings, {**env, "KENTCBS_LDAP_CA_FILE": str(other / "other-ca.pem")},
               tmp_path)
    _refused(_sign_in("mehmet.park", "Mehmet-Parola-1")[1], UNREACHABLE)
    assert not User.objects.filter(username="mehmet.park").exists()


@pytest.mark.django_db
def test_messages_in_english_when_the_user_chose_english(directory_on) -> None:
    client = Client()
    client.cookies["django_language"] = "en"
    _client, response = _sign_in("grupsuz", "Grupsuz-Parola-1", client=client)
    assert "Your directory account is in no group that KentCBS knows" in \
        response.content.decode()


# -- the browser -------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_signs_in_with_a_directory_account_and_lands_on_its_department(
        live_server, directory_on, artifacts_dir) -> None:
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM), "Debian chromium is required (bootstrap.sh installs it)"
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", "mehmet.park")
        page.fill("#id_password", "yanlis")
        page.click("button[type=submit]")
        page.wait_for_selector("#signin-error")
        assert page.inner_text("#signin-error") == WRONG
        page.screenshot(path=str(artifacts_dir / "1-wrong-password.png"))

        page.fill("#id_username", "mehmet.park")
        page.fill("#id_password", "Mehmet-Parola-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.screenshot(path=str(artifacts_dir / "2-department-home.png"))
        assert page.inner_text("main h1") == "Park ve Bahçeler Müdürlüğü"
        # the header collapses into a menu on a phone: the name is there, behind "Menü"
        assert (page.text_content("#frame-user") or "").strip() == "Mehmet Park"
        browser.close()
    assert not errors, errors
    assert _pairs("mehmet.park") == {("park_bahceler", "data_entry")}
