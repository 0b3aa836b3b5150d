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
| ``KENTCBS_PROFILE`` | municipality profile: ``odunpazari`` or ``efeler`` | odunpazari |
| ``KENTCBS_MODULES`` | comma-separated extra modules (Django apps under modules/) | all shipped |
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
KENTCBS_MODULES = _env_list("KENTCBS_MODULES", "modules.helpdesk,modules.registers")

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
            ],
        },
    },
]

DATABASES = {"default": django_database_settings()}
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
# first (gis_core.signin). A directory (LDAP) backend goes between the two KentCBS ones.
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

#: Municipality profile shipped with the demo data and the CRS of its TM zone.
KENTCBS_PROFILE = os.environ.get("KENTCBS_PROFILE", "odunpazari").strip().lower()
#: Storage SRID of every geometry: the municipality's TM zone (EPSG:5254 TM30 for
#: Odunpazarı, EPSG:5253 TM27 for Efeler). Fixed when the database is created.
KENTCBS_SRID = int(os.environ.get("KENTCBS_SRID", "0")) or {
    "odunpazari": 5254, "efeler": 5253}.get(KENTCBS_PROFILE, 5254)
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
