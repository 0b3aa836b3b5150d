"""A real OpenLDAP directory for the tests: Debian's slapd, run on a free local port.

:func:`start_directory` writes a temporary ``slapd.conf`` (mdb backend, the password
policy overlay that locks accounts), loads :data:`LDIF` with ``slapadd`` and starts
``slapd`` in the foreground on ``ldap://127.0.0.1:<port>`` (StartTLS offered) and
``ldaps://127.0.0.1:<port>``, with a test CA's certificate; as root it drops to the
``openldap`` system user. The municipality's departments are OUs under
``ou=kentcbs`` and the roles are groups (``groupOfNames``) in them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
BASE = "dc=belediye,dc=local"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "kok-Parola-1"
SERVICE_DN = f"cn=kentcbs,ou=services,{BASE}"
SERVICE_PASSWORD = "servis-Parola-1"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=kentcbs,{BASE}"


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(department: str, role: str) -> str:
    """The group of ``role`` in the OU of ``department``."""
    return f"cn={role},ou={department},{GROUPS}"


#: Directory users: uid → (password, given name, surname, extra LDIF lines).
PEOPLE_ENTRIES: dict[str, tuple[str, str, str, str]] = {
    "ayse.teknik": ("Ayse-Parola-1", "Ayşe", "Teknik", ""),
    "mehmet.park": ("Mehmet-Parola-1", "Mehmet", "Park", ""),
    "zeynep.fen": ("Zeynep-Parola-1", "Zeynep", "Fen", ""),
    "kapali.hesap": ("Kapali-Parola-1", "Kapalı", "Hesap",
                     # OpenLDAP's password policy: permanently locked (disabled)
                     "pwdAccountLockedTime: 000001010000Z\n"),
    "grupsuz": ("Grupsuz-Parola-1", "Grup", "Suz", ""),
}

#: (department OU, role group) → members (uids).
GROUP_MEMBERS: dict[tuple[str, str], list[str]] = {
    ("bilgi_islem", "technician"): ["ayse.teknik"],
    ("bilgi_islem", "manager"): [],
    ("park_bahceler", "data_entry"): ["mehmet.park", "kapali.hesap"],
    ("fen_isleri", "data_entry"): ["zeynep.fen"],
    ("imar_sehircilik", "viewer"): [],
}

#: The group map KentCBS is given (every group above).
GROUP_MAP = "groups:\n" + "".join(
    f"  - dn: {group_dn(department, role)}\n    department: {department}\n    role: {role}\n"
    for department, role in GROUP_MEMBERS)


def _ldif() -> str:
    import base64

    def text(attr: str, value: str) -> str:  # LDIF: non-ASCII values in base64
        if value.isascii():
            return f"{attr}: {value}\n"
        return f"{attr}:: {base64.b64encode(value.encode()).decode()}\n"

    parts = [
        f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Test Belediyesi\n"
        "dc: belediye\n",
        f"dn: ou=policies,{BASE}\nobjectClass: organizationalUnit\nou: policies\n",
        f"dn: cn=default,ou=policies,{BASE}\nobjectClass: device\nobjectClass: pwdPolicy\n"
        "cn: default\npwdAttribute: userPassword\npwdLockout: TRUE\n",
        f"dn: ou=services,{BASE}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: kentcbs\nuserPassword: {SERVICE_PASSWORD}\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: kentcbs\n",
        f"dn: ou=other,{BASE}\nobjectClass: organizationalUnit\nou: other\n",
        # a group KentCBS does not know
        f"dn: cn=yazicilar,ou=other,{BASE}\nobjectClass: groupOfNames\ncn: yazicilar\n"
        f"member: {person_dn('grupsuz')}\nmember: {person_dn('ayse.teknik')}\n",
    ]
    for uid, (password, given, surname, extra) in PEOPLE_ENTRIES.items():
        parts.append(f"dn: {person_dn(uid)}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
                     + text("cn", f"{given} {surname}") + text("givenName", given)
                     + text("sn", surname) + f"mail: {uid}@belediye.local\n"
                     f"userPassword: {password}\n{extra}")
    for department in dict.fromkeys(d for d, _r in GROUP_MEMBERS):
        parts.append(f"dn: ou={department},{GROUPS}\nobjectClass: organizationalUnit\n"
                     f"ou: {department}\n")
    for (department, role), members in GROUP_MEMBERS.items():
        # groupOfNames needs a member: every group holds the service account too, so
        # that a test can take its last person out
        lines = f"member: {SERVICE_DN}\n" + "".join(f"member: {person_dn(uid)}\n"
                                                     for uid in members)
        parts.append(f"dn: {group_dn(department, role)}\nobjectClass: groupOfNames\n"
                     f"cn: {role}\n{lines}")
    return "\n".join(parts)


CONFIG = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {home}/slapd.pid
argsfile {home}/slapd.args
database mdb
maxsize 16777216
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {home}/data
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
TLSCACertificateFile {home}/ca.pem
TLSCertificateFile {home}/server.pem
TLSCertificateKeyFile {home}/server.key
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""


@dataclass
class Directory:
    """A running test directory: ``uri`` (plain, StartTLS offered), ``ldaps_uri`` (TLS),
    both with a certificate for 127.0.0.1 signed by the test CA in ``ca_file``."""

    uri: str
    ldaps_uri: str
    home: Path
    process: subprocess.Popen[bytes]

    @property
    def ca_file(self) -> Path:
        return self.home / "ca.pem"

    def admin(self):
        """A connection bound as the directory's root."""
        import ldap

        conn = ldap.initialize(self.uri)
        conn.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
        return conn

    def add_member(self, group: str, uid: str) -> None:
        import ldap

        conn = self.admin()
        try:
            conn.modify_s(group, [(ldap.MOD_ADD, "member", [person_dn(uid).encode()])])
        finally:
            conn.unbind_s()

    def remove_member(self, group: str, uid: str) -> None:
        import ldap

        conn = self.admin()
        try:
            conn.modify_s(group, [(ldap.MOD_DELETE, "member", [person_dn(uid).encode()])])
        finally:
            conn.unbind_s()


    def lock(self, uid: str, locked: bool = True) -> None:
        """Disable (or enable again) an account the password-policy way."""
        import ldap

        conn = self.admin()
        try:
            change = ((ldap.MOD_ADD, "pwdAccountLockedTime", [b"000001010000Z"]) if locked
                      else (ldap.MOD_DELETE, "pwdAccountLockedTime", None))
            conn.modify_s(person_dn(uid), [change])
        finally:
            conn.unbind_s()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_answering(directory: Directory, deadline_s: float = 60) -> None:
    """Poll until slapd answers a search (or it exits, or the deadline passes)."""
    import ldap

    end = time.monotonic() + deadline_s
    while True:
        if directory.process.poll() is not None:
            log = (directory.home / "slapd.log").read_text(errors="replace")
            raise RuntimeError(f"slapd exited with {directory.process.returncode}:\n{log}")
        try:
            directory.admin().unbind_s()
            return
        except ldap.SERVER_DOWN:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def make_certificates(folder: Path, *, name: str = "ca") -> None:
    """A test CA (``<name>.pem``) and, signed by it, ``server.pem``/``server.key`` for
    127.0.0.1 (openssl, which Debian's ca-certificates brings)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True,
                       timeout=120)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.pem", "-days", "2", "-subj", "/CN=KentCBS Test CA")
    if name != "ca":
        return
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")


@contextmanager
def start_directory() -> Iterator[Directory]:
    """Run a directory with :data:`PEOPLE_ENTRIES` and :data:`GROUP_MEMBERS` loaded."""
    assert shutil.which(SLAPD) and shutil.which(SLAPADD), \
        "Debian's slapd is required (bootstrap.sh installs slapd and ldap-utils)"
    home = Path(tempfile.mkdtemp(prefix="kentcbs-slapd-"))
    (home / "data").mkdir()
    config = home / "slapd.conf"
    config.write_text(CONFIG.format(home=home, base=BASE, root_dn=ROOT_DN,
                                    root_password=ROOT_PASSWORD))
    (home / "data.ldif").write_text(_ldif(), encoding="utf-8")
    make_certificates(home)
    subprocess.run([SLAPADD, "-q", "-f", str(config), "-l", str(home / "data.ldif")],
                   check=True, capture_output=True, timeout=120)
    uri, ldaps_uri = f"ldap://127.0.0.1:{_free_port()}", f"ldaps://127.0.0.1:{_free_port()}"
    command = [SLAPD, "-f", str(config), "-h", f"{uri}/ {ldaps_uri}/", "-d", "0"]
    if os.geteuid() == 0:  # never a directory server running as root
        account = pwd.getpwnam("openldap")
        for path in (home, home / "data", *(home / "data").iterdir(), *home.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
        command += ["-u", "openldap", "-g", "openldap"]
    with open(home / "slapd.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    directory = Directory(uri=uri, ldaps_uri=ldaps_uri, home=home, process=process)
    try:
        _wait_until_answering(directory)
        yield directory
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(home, ignore_errors=True)
