"""Law 5651 internal IP distribution records (modules.netops): intake of ISC, Kea, Windows
and btklog files, append-only storage, daily archives time stamped by a real RFC 3161
authority (``openssl ts`` behind a local HTTP endpoint), verification, retention, lookup."""

from __future__ import annotations

import datetime as dt
import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from modules.netops import parsers, services
from modules.netops.errors import NetopsError
from modules.netops.models import DhcpLease, LeaseEnd, LookupRecord, PurgeRecord
from tests.people import member, signed_in

pytestmark = pytest.mark.django_db
X0, Y0 = 544_000, 4_402_000


# -- a real time-stamp authority ------------------------------------------------------------
def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A CA, a TSA certificate it signed (timeStamping), ``openssl ts -reply`` behind an
    HTTP endpoint on a free local port: what Kamu SM's service answers, locally."""
    folder = tmp_path_factory.mktemp("tsa")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.crt", "-days", "30", "-subj", "/CN=KentCBS Test CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
             cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
             "-subj", "/CN=KentCBS Test TSA", cwd=folder)
    (folder / "ext.cnf").write_text("extendedKeyUsage=critical,timeStamping\n"
                                    "basicConstraints=CA:FALSE\n"
                                    "keyUsage=critical,digitalSignature\n")
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf",
             cwd=folder)
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(f"""
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                (folder / "q.tsq").write_bytes(query)
                subprocess.run(["openssl", "ts", "-reply", "-config", str(folder / "tsa.cnf"),
                                "-queryfile", "q.tsq", "-out", "r.tsr"], cwd=folder, check=True,
                               capture_output=True)
                reply = (folder / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}/tsa",
               "ca": str(folder / "ca.crt")}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def archive_settings(settings, tsa, tmp_path):  # type: ignore[no-untyped-def]
    settings.KENTCBS_TSA_URL = tsa["url"]
    settings.KENTCBS_TSA_CA_FILE = tsa["ca"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return settings


# -- files as the servers write them -----------------------------------------------------------
ISC = """# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3-P1
server-duid "\\000\\001\\000\\001& eS\\000\\014)U\\267\\275";

lease 10.20.0.11 {
  starts 4 2026/12/03 05:00:00;
  ends 4 2026/12/03 17:00:00;
  cltt 4 2026/12/03 05:00:00;
  binding state active;
  hardware ethernet 00:50:56:3e:87:44;
  client-hostname "BIM-PC-01";
}
lease 10.20.0.12 {
  starts 4 2026/12/03 06:10:00;
  ends never;
  binding state active;
  uid "\\001\\000PV>";
}
lease 10.20.0.13 {
  starts 4 2026/13/03 06:10:00;
  hardware ethernet 00:0c:29:b6:53:f1;
}
lease 10.20.0.14 {
  starts epoch 1764748800; # Wed Dec 03 08:00:00 2025
  ends epoch 1764792000;
  hardware ethernet 00:0C:29:B6:53:F2;
}
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_isc_leases_are_stored_once_and_bad_blocks_are_reported_by_line(tmp_path) -> None:
    path = write(tmp_path, "dhcpd.leases", ISC)
    first = services.ingest_file(path=path, fmt="isc", server="dhcp1", actor="test")
    assert (first.intake.leases_new, first.intake.leases_known) == (2, 0)
    assert [(p.line, p.english) for p in first.problems] == [
        (13, "lease without 'hardware ethernet' (no MAC)"),
        (20, "unreadable time: starts 4 2026/13/03 06:10:00;")]
    assert first.problems[0].reason == ("'hardware ethernet' satırı olmayan kira (MAC yok) / "
                                        "lease without 'hardware ethernet' (no MAC)")
    assert first.intake.problems[1] == {
        "line": 20, "reason": "zaman okunamadı: starts 4 2026/13/03 06:10:00; / "
                              "unreadable time: starts 4 2026/13/03 06:10:00;"}
    lease = DhcpLease.objects.get(ip_address="10.20.0.11")
    assert lease.mac_address == "00:50:56:3e:87:44" and lease.hostname == "BIM-PC-01"
    assert lease.starts_at == dt.datetime(2026, 12, 3, 5, 0, tzinfo=dt.UTC)
    assert lease.utc_offset == 0
    epoch = DhcpLease.objects.get(ip_address="10.20.0.14")
    assert epoch.mac_address == "00:0c:29:b6:53:f2"
    assert epoch.starts_at == dt.datetime(2025, 12, 3, 8, 0, tzinfo=dt.UTC)
    again = services.ingest_file(path=path, fmt="isc", server="dhcp1", actor="test")
    assert (again.intake.leases_new, again.intake.leases_known) == (0, 2)
    assert DhcpLease.objects.count() == 2


def test_kea_lease_csv_and_legal_log(tmp_path) -> None:
    csv_path = write(tmp_path, "kea-leases4.csv",
                     "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,"
                     "hostname,state,user_context,pool_id\n"
                     "10.30.0.5,08:00:2b:02:3f:4e,,3600,1764838800,1,0,0,yazici-1,0,,0\n"
                     "10.30.0.6,08:00:2b:02:3f:4f,,3600,1764838800,1,0,0,,1,,0\n"
                     "10.30.0.7,,,3600,1764838800,1,0,0,,0,,0\n")
    result = services.ingest_file(path=csv_path, fmt="kea", server="kea1", actor="test")
    assert result.intake.leases_new == 1  # the declined lease is no use of the address
    assert [p.line for p in result.problems] == [4]
    lease = DhcpLease.objects.get(ip_address="10.30.0.5")
    assert lease.starts_at == dt.datetime.fromtimestamp(1764838800 - 3600, tz=dt.UTC)
    legal = write(tmp_path, "kea-legal.2026-12-03.txt",
                  "2026-12-03 09:15:00 +03 Address: 10.30.0.9 has been assigned for 1 hrs 30 "
                  "mins 0 secs to a device with hardware address: hwtype=1 08:00:2b:02:3f:50, "
                  "client-id: 01:08:00:2b:02:3f:50\n"
                  "garbage line\n"
                  "2026-12-03 10:00:00 XYZ Address: 10.30.0.9 has been renewed for 1 hrs 0 mins "
                  "0 secs to a device with hardware address: hwtype=1 08:00:2b:02:3f:50\n")
    result = services.ingest_file(path=legal, fmt="kea", server="kea1", actor="test")
    assert result.intake.leases_new == 1
    assert [p.line for p in result.problems] == [2, 3]
    assert "unknown time zone 'XYZ'" in result.problems[1].english
    lease = DhcpLease.objects.get(ip_address="10.30.0.9")
    assert lease.utc_offset == 180
    assert lease.starts_at == dt.datetime(2026, 12, 3, 6, 15, tzinfo=dt.UTC)
    assert lease.ends_at == dt.datetime(2026, 12, 3, 7, 45, tzinfo=dt.UTC)


WINDOWS_TR = (
    '\\t\\tMicrosoft DHCP Hizmeti Etkinlik Günlüğü\n'
    '\n'
    'Olay Kimliği  Anlamı\n'
    '10\\tYeni bir IP adresi bir istemciye kiralandı.\n'
    '\n'
    'Kimlik,Tarih,Saat,Açıklama,IP Adresi,Ana Bilgisayar Adı,MAC Adresi,Kullanıcı Adı'
    ', İşlem Kimliği, QSonuç,Deneme süresi, Bağıntı Kimliği,Dhcid,SatıcıSınıfı(Onaltı'
    'lı),SatıcıSınıfı(ASCII),KullanıcıSınıfı(Onaltılı),KullanıcıSınıfı(ASCII),İlişki '
    'Aracısı Bilgileri,DnsKaydıSilmeBekliyor\n'
    '00,03.12.26,00:00:01,Günlük Başlatıldı,,,,,0,6,,,,,,,,,0\n'
    '10,03.12.26,08:30:00,Atama,10.40.0.21,MALI-PC-07.belediye.local,001122334455,,12'
    '34,0,,,,,,,,,0\n'
    '12,03.12.26,12:45:10,Serbest bırakma,10.40.0.21,MALI-PC-07.belediye.local,001122'
    '334455,,0,6,,,,,,,,,0\n'
    '10,31.02.26,08:30:00,Atama,10.40.0.22,X,001122334466,,1,0,,,,,,,,,0\n'
    '\n'
)


def test_a_turkish_windows_audit_log_in_windows_1254(tmp_path) -> None:
    path = write(tmp_path, "DhcpSrvLog-Per.log", WINDOWS_TR, encoding="cp1254")
    result = services.ingest_file(path=path, fmt="windows", server="dc01", actor="test")
    assert (result.intake.leases_new, result.intake.ends_new) == (1, 1)
    assert [(p.line, p.english) for p in result.problems] == [(10, "unreadable date or time")]
    lease = DhcpLease.objects.get()
    assert lease.hostname == "MALI-PC-07.belediye.local" and lease.utc_offset == 180
    assert lease.starts_at == dt.datetime(2026, 12, 3, 5, 30, tzinfo=dt.UTC)
    assert LeaseEnd.objects.get().reason == "released"
    rows = services.uses_between(dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
                                 dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
    assert [(r[0], r[2]) for r in rows] == [
        ("10.40.0.21", dt.datetime(2026, 12, 3, 9, 45, 10, tzinfo=dt.UTC))]


def test_a_file_that_is_not_what_it_says_is_reported_not_fatal(tmp_path) -> None:
    path = write(tmp_path, "leases.log", ISC)
    result = services.ingest_file(path=path, fmt="windows", server="dc01", actor="test")
    assert result.intake.leases_new == 0
    assert "not a Windows DHCP audit log" in result.problems[0].english
    with pytest.raises(NetopsError) as caught:
        call_command("netops", "dhcp-ingest", str(tmp_path / "missing.leases"), "--format", "isc")
    assert caught.value.code == "NETOPS_NO_FILE"


BTKLOG = """IP Adresi           Kullanıma Başlama Zamanı     Kullanım Bitiş Zamanı      MAC Adresi
10.0.0.2            10.04.2020-08:27:36          10.04.2020-10:57:36        00-50-56-3e-87-44
10.0.0.3            10.04.2020-08:27:39+03:00    10.04.2020-10:57:39+03:00  00-0c-29-b6-53-f1
10.0.0.4            10.04.2020-08:27:40          -                          00-0c-29-b6-53-f2
10.0.0.5            31.04.2020-08:27:40          -                          00-0c-29-b6-53-f3
"""
KEA_CSV = ("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,"
           "hostname,state,user_context,pool_id\n"
           "10.30.0.5,08:00:2b:02:3f:4e,,3600,1764838800,1,0,0,yazici-1,0,,0\n"
           "10.30.0.8,08:00:2b:02:3f:51,,7200,1764842400,1,0,0,,0,,0\n")


@pytest.mark.parametrize(("fmt", "text", "encoding", "expected"), [
    ("isc", ISC, "utf-8", {("10.20.0.11", "00:50:56:3e:87:44"),
                           ("10.20.0.14", "00:0c:29:b6:53:f2")}),
    ("kea", KEA_CSV, "utf-8", {("10.30.0.5", "08:00:2b:02:3f:4e"),
                               ("10.30.0.8", "08:00:2b:02:3f:51")}),
    ("windows", WINDOWS_TR, "cp1254", {("10.40.0.21", "00:11:22:33:44:55")}),
    ("btklog", BTKLOG, "utf-8", {("10.0.0.2", "00:50:56:3e:87:44"),
                                 ("10.0.0.3", "00:0c:29:b6:53:f1"),
                                 ("10.0.0.4", "00:0c:29:b6:53:f2")}),
])
def test_each_format_loads_exactly_its_leases_twice_without_duplicates(
        tmp_path, fmt: str, text: str, encoding: str, expected: set[tuple[str, str]]) -> None:
    path = write(tmp_path, f"sample.{fmt}", text, encoding=encoding)
    first = services.ingest_file(path=path, fmt=fmt, server="s1", actor="test")
    second = services.ingest_file(path=path, fmt=fmt, server="s1", actor="test")
    assert set(DhcpLease.objects.values_list("ip_address", "mac_address")) == expected
    assert (first.intake.leases_new, second.intake.leases_new) == (len(expected), 0)
    assert second.intake.leases_known == len(expected)
    if fmt == "btklog":  # no offset written: UTC, as btklog copies ISC's times; else as written
        times = dict(DhcpLease.objects.values_list("ip_address", "starts_at"))
        assert times["10.0.0.2"] == dt.datetime(2020, 4, 10, 8, 27, 36, tzinfo=dt.UTC)
        assert times["10.0.0.3"] == dt.datetime(2020, 4, 10, 5, 27, 39, tzinfo=dt.UTC)
        assert [p.line for p in first.problems] == [5]


def _lease(starts: dt.datetime, ip: str = "10.50.0.1", mac: str = "00:50:56:00:00:01") -> None:
    DhcpLease.objects.create(ip_address=ip, mac_address=mac, starts_at=starts, utc_offset=0,
                             server="s", source_format="isc", source_name="f", source_line=1)


def test_records_are_append_only_for_the_application(tmp_path) -> None:
    _lease(timezone.now() - dt.timedelta(days=10))
    for statement in ("UPDATE netops_dhcplease SET mac_address = '00:00:00:00:00:00'",
                      "DELETE FROM netops_dhcplease"):
        with pytest.raises(DatabaseError) as caught, transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(statement)
        assert "5651" in str(caught.value) and "silinemez" in str(caught.value)
    # even a purge that claims a recent cut-off cannot delete a 10-day-old record
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('kentcbs.netops_purge_before', %s, true)",
                       [timezone.now().isoformat()])
        cursor.execute("DELETE FROM netops_dhcplease")
    assert DhcpLease.objects.count() == 1


def test_purge_destroys_only_what_is_past_retention_and_records_it(settings) -> None:
    settings.KENTCBS_NETOPS_RETENTION_DAYS = 30  # below the law: the law's 730 days win
    now = timezone.now().replace(microsecond=0)  # the clock, frozen for the purge
    cut = now - dt.timedelta(days=730 + 30)
    _lease(now - dt.timedelta(days=800), ip="10.50.0.1")
    _lease(cut - dt.timedelta(seconds=1), ip="10.50.0.4")  # one second past the cut: goes
    _lease(cut, ip="10.50.0.5")  # exactly at the cut: stays
    _lease(now - dt.timedelta(days=740), ip="10.50.0.2")  # past 730, within the grace
    _lease(now - dt.timedelta(days=40), ip="10.50.0.3")
    record = services.purge(actor="test", now=now)
    assert record.leases_deleted == 2 and record.before == cut and record.purged_at == now
    assert sorted(DhcpLease.objects.values_list("ip_address", flat=True)) == [
        "10.50.0.2", "10.50.0.3", "10.50.0.5"]
    assert PurgeRecord.objects.get() == record
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM netops_purgerecord")


def test_a_day_is_archived_time_stamped_and_verified(archive_settings, tmp_path) -> None:
    day = timezone.localdate() - dt.timedelta(days=1)
    zone = services.local_zone()
    start = dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone)
    _lease(start, ip="10.60.0.1", mac="00:50:56:00:00:01")
    _lease(start + dt.timedelta(hours=2), ip="10.60.0.1", mac="00:50:56:00:00:02")
    _lease(start - dt.timedelta(days=1), ip="10.60.0.9")  # the day before: not in this file
    call_command("netops", "archive", "--day", day.isoformat())
    archive = services.DailyArchive.objects.get(day=day)
    path = Path(archive_settings.MEDIA_ROOT) / archive.path
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("IP Adresi") and "Kullanıma Başlama Zamanı" in lines[0]
    assert len(lines) == 3 and archive.records == 2
    first = lines[1].split()
    assert first == ["10.60.0.1", f"{day:%d.%m.%Y}-09:00:00+03:00",
                     f"{day:%d.%m.%Y}-11:00:00+03:00", "00-50-56-00-00-01"]
    assert lines[2].split()[2] == "-"
    assert [r.problem for r in services.verify_archives()] == [""]
    with pytest.raises(NetopsError) as again:
        services.archive_day(day=day)
    assert again.value.code == "NETOPS_ARCHIVED"
    # one changed byte: verify names the file and exits non-zero
    data = bytearray(path.read_bytes())
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(NetopsError) as broken:
        call_command("netops", "verify")
    assert broken.value.code == "NETOPS_ARCHIVE_BROKEN" and archive.path in broken.value.text
    # the right bytes but no token
    data[-3] ^= 1
    path.write_bytes(bytes(data))
    (Path(archive_settings.MEDIA_ROOT) / archive.token_path).unlink()
    assert [r.problem for r in services.verify_archives()] == ["time-stamp token missing"]


def test_no_time_stamp_authority_no_archive(settings) -> None:
    settings.KENTCBS_TSA_URL = ""
    with pytest.raises(NetopsError) as caught:
        services.archive_day(day=timezone.localdate() - dt.timedelta(days=3))
    assert caught.value.code == "NETOPS_NO_TSA"
    assert caught.value.text.startswith("Zaman damgası hizmeti yok: günün dosyasının")
    assert "/ No time-stamp authority: set KENTCBS_TSA_URL" in caught.value.text


def _asset() -> object:
    from django.conf import settings

    from gis_core.models import Asset, Building, Department, Room

    srid = settings.KENTCBS_SRID
    footprint = MultiPolygon(Polygon(((X0, Y0), (X0 + 40, Y0), (X0 + 40, Y0 + 40), (X0, Y0 + 40),
                                      (X0, Y0))), srid=srid)
    hall = Building.objects.create(code="B1", name="Mali Hizmetler Binası", footprint=footprint)
    room = Room.objects.create(building=hall, code="204", name="Muhasebe")
    return Asset.objects.create(inventory_number="DB-0421", category="desktop",
                                status="in_service", brand="Dell", model="OptiPlex",
                                department=Department.objects.get(code="mali_hizmetler"),
                                building=hall, room=room, mac_address="00:11:22:33:44:55",
                                location=Point(X0 + 20, Y0 + 20, srid=srid))


def test_whois_finds_the_asset_and_records_who_asked(tmp_path) -> None:
    _asset()
    path = write(tmp_path, "DhcpSrvLog-Per.log", WINDOWS_TR, encoding="cp1254")
    services.ingest_file(path=path, fmt="windows", server="dc01", actor="test")
    at = dt.datetime(2026, 12, 3, 10, 0, tzinfo=services.local_zone())
    answer = services.whois(ip="10.40.0.21", at=at, reason="Savcılık yazısı 2026/123",
                            actor="test")
    assert answer.mac == "00:11:22:33:44:55" and answer.asset.inventory_number == "DB-0421"
    assert (answer.asset.room.code, answer.asset.building.name) == ("204", "Mali Hizmetler Binası")
    after = services.whois(ip="10.40.0.21", at=at + dt.timedelta(hours=4), reason="HD-1",
                           actor="test")
    assert after.mac == ""  # released at 12:45
    assert list(LookupRecord.objects.order_by("id").values_list("found_asset", "reason")) == [
        ("DB-0421", "Savcılık yazısı 2026/123"), ("", "HD-1")]
    with pytest.raises(NetopsError) as caught:
        services.whois(ip="10.40.0.21", at=at, reason=" ", actor="test")
    assert caught.value.code == "NETOPS_NO_REASON"


def test_the_lookup_page_is_for_network_and_gis_administrators_only(tmp_path) -> None:
    _asset()
    path = write(tmp_path, "DhcpSrvLog-Per.log", WINDOWS_TR, encoding="cp1254")
    services.ingest_file(path=path, fmt="windows", server="dc01", actor="test")
    technician = signed_in(member("tekniker", "bilgi_islem", "technician"))
    assert technician.get("/netops/whois/").status_code == 403
    admin = member("ag", "bilgi_islem", "network_admin")
    client = signed_in(admin)
    page = client.get("/netops/whois/")
    assert page.status_code == 200 and "IP sorgusu" in page.content.decode()
    answer = client.post("/netops/whois/", {"ip": "10.40.0.21", "at": "2026-12-03T10:00",
                                            "reason": "Olay 7"})
    text = answer.content.decode()
    assert "DB-0421" in text and "Mali Hizmetler Binası" in text and "00:11:22:33:44:55" in text
    assert LookupRecord.objects.get().user == admin


def test_normal_mac_spellings() -> None:
    assert {parsers.normal_mac(s) for s in ("00:11:22:33:44:55", "00-11-22-33-44-55",
                                            "001122334455", "0011.2233.4455")} == {
        "00:11:22:33:44:55"}
