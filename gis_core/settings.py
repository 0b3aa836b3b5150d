"""KentCBS settings, read from the environment (12-factor).

Defaults are safe for one machine: DEBUG off, the embedded database, a secret
key kept in ``$KENTCBS_HOME/secret_key``. ``KENTCBS_ENV=production`` switches
on the deploy profile; ``kentcbs check --deploy`` passes once its variables
(``KENTCBS_SECRET_KEY``, ``KENTCBS_ALLOWED_HOSTS``) are set.

| variable | meaning | default |
|---|---|---|
| ``DATABASE_URL`` | ``postgis://user:pass@host:port/db``; never start a local cluster | embedded |
| ``KENTCBS_HOME`` | runtime data (database, uploads, reports, static) | ``./var`` |
| ``KENTCBS_DB_PORT`` | port of the embedded cluster | 55432 |
| ``KENTCBS_ENV`` | ``development`` or ``production`` | development |
| ``KENTCBS_DEBUG`` | 1 to show Django's debug pages | 0 |
| ``KENTCBS_SECRET_KEY`` | secret key (required in production) | generated file |
| ``KENTCBS_ALLOWED_HOSTS`` | comma-separated host names | 127.0.0.1,localhost |
| ``KENTCBS_PROFILE`` | municipality code (demo: ``odunpazari``, ``efeler``) | see below |
| ``KENTCBS_SRID`` | storage SRID (TUREF TM zone) | municipality.json |
| ``KENTCBS_MODULES`` | comma-separated extra modules (Django apps under modules/) | all shipped |
| ``KENTCBS_TSA_URL`` | RFC 3161 time-stamp authority for the 5651 archives (netops) | none |
| ``KENTCBS_TSA_CA_FILE`` | CA certificate(s) that verify that authority's tokens | none |
| ``KENTCBS_NETOPS_RETENTION_DAYS`` | how long IP records are kept (never below 730) | 730 |
| ``KENTCBS_NETOPS_PURGE_GRACE_DAYS`` | days after the retention before a purge destroys them | 30 |
| ``KENTCBS_REGISTERS_IT_UNIT`` | unit reminded of items without a unit | bilgi_islem |
| ``KENTCBS_REGISTERS_ESIGN_RETENTION_DAYS`` | days an ended card keeps its holder | 730 |
| ``KENTCBS_NETOPS_PROBE_METHOD`` | ``auto`` (ICMP where permitted, else TCP) or ``tcp`` | auto |
| ``KENTCBS_NETOPS_OUTAGE_TICKETS`` | an outage opens a helpdesk ticket (``true``) | false |
| ``KENTCBS_TILE_URL`` | an external basemap tile URL (opt-in; none by default) | none |
| ``KENTCBS_TILE_ATTR`` | attribution text of that basemap | none |
| ``KENTCBS_SIGNIN_FAILURES`` | failed sign-ins (per account, per address) before a lockout | 10 |
| ``KENTCBS_SIGNIN_LOCK_MINUTES`` | how long a lockout lasts | 15 |
| ``KENTCBS_PROXY_COUNT`` | reverse proxies in front (client address: X-Forwarded-For) | 0 |
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from gis_core.database import PROJECT_ROOT, django_database_settings, kentcbs_home
from gis_core.deployment import read_municipality_file
from gis_core.directory.config import directory_settings
from gis_core.profiles import demo_profiles


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "evet"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = PROJECT_ROOT
HOME = kentcbs_home()
ENVIRONMENT = os.environ.get("KENTCBS_ENV", "development").strip().lower()
PRODUCTION = ENVIRONMENT == "production"


def _secret_key() -> str:
    key = os.environ.get("KENTCBS_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "KENTCBS_SECRET_KEY üretim ortamında zorunludur. / "
            "KENTCBS_SECRET_KEY is required in production."
        )
    path = HOME / "secret_key"
    if not path.exists():
        HOME.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("KENTCBS_DEBUG", default=False)
ALLOWED_HOSTS = _env_list("KENTCBS_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("KENTCBS_CSRF_TRUSTED_ORIGINS", "")

#: Optional modules (Django apps under modules/). Each attaches to the core
#: through its own ``kentcbs.py`` (layers, menu entries, permissions).
KENTCBS_MODULES = _env_list("KENTCBS_MODULES", "modules.helpdesk,modules.netops,modules.registers")

# Law 5651 IP records (modules.netops): the RFC 3161 time-stamp authority, the CA file that
# verifies its tokens, the retention (never below the legal two years) and the purge grace.
KENTCBS_TSA_URL = os.environ.get("KENTCBS_TSA_URL", "")
KENTCBS_TSA_CA_FILE = os.environ.get("KENTCBS_TSA_CA_FILE", "")
KENTCBS_NETOPS_RETENTION_DAYS = int(os.environ.get("KENTCBS_NETOPS_RETENTION_DAYS", "730"))
KENTCBS_NETOPS_PURGE_GRACE_DAYS = int(os.environ.get("KENTCBS_NETOPS_PURGE_GRACE_DAYS", "30"))
# Reachability and alerts (modules.netops): ports the probe tries, the IT unit told of every
# outage, the token of the monitoring webhooks (Alertmanager, Zabbix).
KENTCBS_NETOPS_PROBE_PORTS = os.environ.get("KENTCBS_NETOPS_PROBE_PORTS", "22,80,443,3389,9100")
KENTCBS_NETOPS_IT_UNIT = os.environ.get("KENTCBS_NETOPS_IT_UNIT", "ag_yonetimi")
KENTCBS_NETOPS_WEBHOOK_TOKEN = os.environ.get("KENTCBS_NETOPS_WEBHOOK_TOKEN", "")
# Registers (modules.registers): the unit reminded of items without a unit, and how long an
# ended e-signature card keeps its holder (personal data) before ``kentcbs registers purge``.
KENTCBS_REGISTERS_IT_UNIT = os.environ.get("KENTCBS_REGISTERS_IT_UNIT", "bilgi_islem")
KENTCBS_REGISTERS_ESIGN_RETENTION_DAYS = int(
    os.environ.get("KENTCBS_REGISTERS_ESIGN_RETENTION_DAYS", "730"))
# auto: ICMP echo where the kernel permits unprivileged ping sockets, else TCP; tcp: never ICMP.
KENTCBS_NETOPS_PROBE_METHOD = os.environ.get("KENTCBS_NETOPS_PROBE_METHOD", "auto")
# An outage (asset or link down) opens a helpdesk ticket when the helpdesk is installed.
KENTCBS_NETOPS_OUTAGE_TICKETS = os.environ.get("KENTCBS_NETOPS_OUTAGE_TICKETS", "").lower() in (
    "1", "true", "yes", "on")
# Outgoing e-mail (alerts): the municipality's SMTP relay (Django 6.1's MAILERS).
MAILERS = {"default": {
    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "OPTIONS": {
        "host": os.environ.get("KENTCBS_SMTP_HOST", "localhost"),
        "port": int(os.environ.get("KENTCBS_SMTP_PORT", "25")),
        "username": os.environ.get("KENTCBS_SMTP_USER", ""),
        "password": os.environ.get("KENTCBS_SMTP_PASSWORD", ""),
        "use_tls": os.environ.get("KENTCBS_SMTP_STARTTLS", "") in {"1", "true", "yes"},
        "timeout": 10,
    },
}}
DEFAULT_FROM_EMAIL = os.environ.get("KENTCBS_MAIL_FROM", "kentcbs@localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    # before gis_core: axes' failure receiver runs before KentCBS's log line (gis_core.signin)
    "axes",
    "simple_history",
    "gis_core",
    "layers",
    "etl",
    "ogc_api",
    "leaflet",
    "web",
    *KENTCBS_MODULES,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gis_core.middleware.TurkishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gis_core.middleware.LazyMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gis_core.middleware.AuditMiddleware",
    # a locked-out sign-in form answers 429 with the message (gis_core.signin.lockout_response)
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gis_core.urls"
WSGI_APPLICATION = "gis_core.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The app frame's menu (core pages and the modules' menu entries).
                "web.context_processors.frame",
            ],
        },
    },
]

DATABASES = {"default": django_database_settings()}
# Reads from a streaming replica (gis_core/routers.py, docs/SCALING.md).
if os.environ.get("KENTCBS_REPLICA_URL", "").strip():
    from gis_core.database import replica_database_settings

    DATABASES["replica"] = replica_database_settings(os.environ["KENTCBS_REPLICA_URL"].strip())
    DATABASE_ROUTERS = ["gis_core.routers.ReplicaRouter"]
    MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
                      "gis_core.routers.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Turkish first, English second.
LANGUAGE_CODE = "tr"
LANGUAGES = [("tr", _("Türkçe")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "gis_core" / "locale"]
TIME_ZONE = "Europe/Istanbul"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
#: Front-end packages from npm (package.json; installed by bootstrap.sh with ``npm ci``),
#: served under /static/vendor/<package>/ like every other asset (web.E001 checks them).
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/leaflet.vectorgrid", NODE_MODULES / "leaflet.vectorgrid" / "dist"),
    ("vendor/proj4", NODE_MODULES / "proj4" / "dist"),
    # pygeoapi's HTML pages under /ogc/ (ogc_api/conformance.py rewrites their CDN links)
    ("vendor/swagger-ui-dist", NODE_MODULES / "swagger-ui-dist"),
    ("vendor/redoc", NODE_MODULES / "redoc" / "bundles"),
    ("vendor/leaflet.markercluster", NODE_MODULES / "leaflet.markercluster" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist" / "css"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = HOME / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve app static files straight from the packages when not collected yet.
WHITENOISE_USE_FINDERS = not PRODUCTION

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
#: Signing out ends on KentCBS's own sign-in page (not the admin's "logged out" page).
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Sign-in: every password, token or directory check is authenticate(), with django-axes
# first (gis_core.signin). The directory (LDAP) backend, when on, comes last (below).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "ogc_api.auth.TokenBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("KENTCBS_SIGNIN_FAILURES", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KENTCBS_SIGNIN_LOCK_MINUTES", "15")))
#: Per account and, separately, per address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "gis_core.signin.lockout_response"
#: KentCBS registers its own admin for the failure records (gis_core.admin: GIS administrators).
AXES_ENABLE_ADMIN = False
#: Reverse proxies in front of KentCBS: the client's address is taken from X-Forwarded-For.
KENTCBS_PROXY_COUNT = int(os.environ.get("KENTCBS_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "gis_core.signin.client_address"
#: A refusal that checked no password (directory unreachable) is not a failure.
AXES_WHITELIST_CALLABLE = "gis_core.signin.not_a_guess"

# Directory sign-in (LDAP / Active Directory), off unless KENTCBS_LDAP_URI is set: the
# KENTCBS_LDAP_* variables become django-auth-ldap's AUTH_LDAP_* (gis_core.directory).
_directory = directory_settings(os.environ, home=HOME)
globals().update(_directory)
if _directory["KENTCBS_LDAP_ENABLED"]:
    # after ModelBackend: local accounts never wait for, or depend on, the directory
    AUTHENTICATION_BACKENDS.append("gis_core.directory.backend.DirectoryBackend")

#: The municipality ``kentcbs municipality init`` set up in this KENTCBS_HOME (code, name,
#: province, srid, centre), or None: then a demo profile (gis_core/data/demo_profiles.yaml).
KENTCBS_MUNICIPALITY = read_municipality_file(HOME)
#: The municipality's code (``KENTCBS_PROFILE`` wins; then municipality.json; then the demo).
KENTCBS_PROFILE = (os.environ.get("KENTCBS_PROFILE", "").strip().lower()
                   or (KENTCBS_MUNICIPALITY or {}).get("code") or "odunpazari")
#: Storage SRID of every geometry: the municipality's TUREF TM zone, chosen from its
#: boundary (EPSG:5254 TM30 for Odunpazarı, EPSG:5253 TM27 for Efeler). Fixed when the
#: database is created: ``KENTCBS_SRID``, else municipality.json, else the demo profile's.
KENTCBS_SRID = int(os.environ.get("KENTCBS_SRID", "").strip() or 0) or (
    int(KENTCBS_MUNICIPALITY["srid"])
    if KENTCBS_MUNICIPALITY and KENTCBS_MUNICIPALITY.get("code") == KENTCBS_PROFILE
    else getattr(demo_profiles().get(KENTCBS_PROFILE), "srid", 5254))
#: An external basemap is opt-in: the intranet default is the municipality's own layers.
KENTCBS_TILE_URL = os.environ.get("KENTCBS_TILE_URL", "").strip()
KENTCBS_TILE_ATTR = os.environ.get("KENTCBS_TILE_ATTR", "").strip()

# Security: sensible on one machine, strict in production.
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("KENTCBS_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("KENTCBS_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("KENTCBS_HSTS_PRELOAD", default=False)

# gis.W001 (system GDAL < 3.9 cannot block file/network access from spatial
# references): uploads are parsed by pyogrio's own GDAL (3.12 wheel), never by
# GeoDjango's; GeoDjango's GDAL only sees SRIDs that KentCBS's code supplies.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]
if PRODUCTION and not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS.append("security.W021")

LOG_LEVEL = os.environ.get("KENTCBS_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # pyogrio logs every file it writes ("Created 6 records") at INFO: noise on a command's
    # stderr (an ingest's error is one line); one line per failed sign-in comes from
    # kentcbs.signin, axes' own are noise
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pyogrio": {"level": "WARNING"},
                "axes": {"level": "ERROR"}},
}

# Upload and report storage used by the ETL.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
KENTCBS_UPLOAD_MAX_BYTES = int(os.environ.get("KENTCBS_UPLOAD_MAX_BYTES", str(2 * 1024**3)))

# GeoDjango: system GDAL/GEOS (Debian's libgdal, libgeos_c).
if os.environ.get("GDAL_LIBRARY_PATH"):
    GDAL_LIBRARY_PATH = os.environ["GDAL_LIBRARY_PATH"]
if os.environ.get("GEOS_LIBRARY_PATH"):
    GEOS_LIBRARY_PATH = os.environ["GEOS_LIBRARY_PATH"]

Path(MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
