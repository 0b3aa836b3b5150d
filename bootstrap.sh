#!/usr/bin/env bash
# KentCBS bootstrap: install what is missing, then run or test.
#
#   ./bootstrap.sh run    install, migrate, load demo data, serve on http://127.0.0.1:8000
#   ./bootstrap.sh test   install (with test tools and a browser), run the whole test suite
#
# Works on a fresh Debian/Ubuntu as root or as a user with sudo. A second run
# skips everything already in place. Extra arguments after `test` go to pytest.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
STATE="$ROOT/var"
mode=${1:-}
[ $# -gt 0 ] && shift

die() { printf 'bootstrap: [%s] %s\n' "$1" "$2" >&2; exit 2; }
say() { printf '==> %s\n' "$*"; }

case "$mode" in
  run|test|packages) ;;
  *) echo "usage: ./bootstrap.sh run|test [pytest args]  (packages: list the apt packages it would ask for)" >&2; exit 2 ;;
esac

# --- privileges for system packages ---------------------------------------
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else return 1; fi
}

apt_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  printf '%s\n' "${missing[@]:-}"
}

apt_install() {
  local missing
  missing=$(apt_missing "$@" | xargs)
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null 2>&1 \
    || die NO_PACKAGE_MANAGER "Eksik sistem paketleri ($missing) var ve bunları kuracak apt-get yok: PostgreSQL+PostGIS ve GDAL'ı elle kurun ya da DATABASE_URL verin. / Missing system packages ($missing) and no apt-get to install them. Install PostgreSQL with PostGIS and GDAL by hand, or set DATABASE_URL."
  say "installing system packages: $missing"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
    as_root apt-get update -qq >/dev/null 2>&1 \
      || die NO_ROOT "$missing kurulamıyor: root olarak ya da sudo ile çalıştırın. / Cannot install $missing: run as root or as a user with sudo."
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      || die APT_FAILED "apt-get şunları kuramadı: $missing (apt kaynaklarını denetleyin). / apt-get could not install: $missing (check the apt sources)."
  fi
}

# --- Python >= 3.12 -----------------------------------------------------------
py_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
find_python() {
  local c
  for c in "${KENTCBS_PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && py_ok "$c" && { command -v "$c"; return; }
  done
  for c in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    [ -x "$c" ] && py_ok "$c" && { echo "$c"; return; }
  done
  return 1
}

# --- system packages ------------------------------------------------------------
# The newest PostgreSQL major installed (Debian layout), empty when there is none.
pg_major() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$d" ] || continue
    d=${d#/usr/lib/postgresql/}; d=${d%%/*}
    [ -z "$best" ] || [ "$d" -gt "$best" ] && best=$d
  done
  echo "$best"
}
# The PostGIS extension packages for a major. Debian's `postgis` package only
# *recommends* them, so --no-install-recommends would leave the extension out.
postgis_packages() { echo "postgresql-$1-postgis-3 postgresql-$1-postgis-3-scripts"; }
# What the embedded cluster needs, as apt packages, for the major installed now.
database_packages() {
  local major
  major=$(pg_major)
  if [ -z "$major" ]; then echo "postgresql"; return; fi
  # The extension's control file decides, not package names.
  [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] || postgis_packages "$major"
}
# python-ldap (under django-auth-ldap, directory sign-in) has no wheel on PyPI: pip
# builds it against OpenLDAP's and Cyrus SASL's headers with a C compiler.
# fonts-dejavu-core: the registers' PDFs embed DejaVu Sans (Turkish letters).
SYSTEM_PACKAGES="gdal-bin gettext ca-certificates openssl fonts-dejavu-core gcc libc6-dev libldap2-dev libsasl2-dev"
# slapd and ldap-utils: the directory tests run a real OpenLDAP server as this user.
# poppler-utils: pdftotext/pdffonts read the PDFs in the tests.
# systemd: systemd-analyze verifies the netops monitor's unit (modules/netops/README.md).
TEST_PACKAGES="chromium python3-qgis qgis-providers slapd ldap-utils poppler-utils systemd"

if [ "$mode" = packages ]; then
  # What this machine would get: the apt packages bootstrap asks for (tests read it).
  [ -z "$(pg_major)" ] && echo postgresql
  [ -n "$(pg_major)" ] && postgis_packages "$(pg_major)" | tr ' ' '\n'
  printf '%s\n' $SYSTEM_PACKAGES $TEST_PACKAGES nodejs npm
  exit 0
fi

if [ -z "${DATABASE_URL:-}" ]; then
  apt_install $(database_packages)
  # PostgreSQL may have come just now: then its PostGIS packages follow.
  [ -n "$(database_packages)" ] && apt_install $(database_packages)
  major=$(pg_major)
  [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] \
    || die POSTGIS_MISSING "PostgreSQL $major için PostGIS eklentisi kurulamadı ($(postgis_packages "$major")). / The PostGIS extension for PostgreSQL $major could not be installed ($(postgis_packages "$major"))."
fi
apt_install $SYSTEM_PACKAGES
if [ "$mode" = test ]; then
  # Real clients for the tests: GDAL's OAPIF driver (gdal-bin), a browser, and QGIS
  # (PyQGIS on Debian's own Python, driven in a subprocess).
  apt_install $TEST_PACKAGES
fi

PYTHON=$(find_python) || {
  apt_install python3 python3-venv >/dev/null 2>&1 || true
  PYTHON=$(find_python) || die PYTHON_TOO_OLD "Python 3.12 veya üstü gerekli (bulunan: $(python3 --version 2>&1 || echo yok)); kurun ya da KENTCBS_PYTHON verin. / Python 3.12 or newer is required; install it or set KENTCBS_PYTHON."
}

# python-ldap is compiled against this Python's headers: Debian keeps them in pythonX.Y-dev.
if ! "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  apt_install "$(basename "$(readlink -f "$PYTHON")")-dev"
fi

# --- virtualenv with the project --------------------------------------------------
extras=""
[ "$mode" = test ] && extras="[test]"
if [ ! -x "$VENV/bin/python" ] || ! py_ok "$VENV/bin/python"; then
  say "creating virtualenv with $("$PYTHON" --version)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die NO_VENV "Sanal ortam (virtualenv) oluşturulamadı: python3-venv paketini kurun. / Could not create a virtualenv: install python3-venv."
fi
# Reinstall only when pyproject.toml or the Python changed (a test install serves `run` too).
stamp_file="$VENV/.kentcbs-installed"
base="$("$VENV/bin/python" --version) $(sha256sum pyproject.toml | cut -c1-16)"
have=$(cat "$stamp_file" 2>/dev/null || true)
if [ "$have" != "$base [test]" ] && [ "$have" != "$base $extras" ]; then
  say "installing KentCBS into $VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".$extras"
  echo "$base $extras" > "$stamp_file"
fi
export PATH="$VENV/bin:$PATH"

# --- front-end packages (npm; the app serves them itself, never a CDN) ------------
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
npm_stamp="node_modules/.kentcbs-installed"
npm_want="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat "$npm_stamp" 2>/dev/null || true)" != "$npm_want" ]; then
  say "installing front-end packages (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null \
    || die NPM_FAILED "npm ci başarısız: npm kayıt ayarlarını denetleyin (npm config get registry). / npm ci failed: check the npm registry settings (npm config get registry)."
  echo "$npm_want" > "$npm_stamp"
fi

# --- translations (compiled .mo files are build artefacts) -------------------------
for po in $(find gis_core layers etl ogc_api web modules -name django.po -path '*LC_MESSAGES*' 2>/dev/null); do
  mo="${po%.po}.mo"
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    msgfmt --check-format -o "$mo" "$po"
  fi
done

kentcbs db start >/dev/null

if [ "$mode" = run ]; then
  kentcbs migrate --no-input -v 0
  kentcbs demo
  exec kentcbs serve --host "${KENTCBS_HOST:-127.0.0.1}" --port "${KENTCBS_PORT:-8000}"
else
  # Lint and types gate the tests (a few seconds): main stays free of both.
  python -m ruff check --quiet . \
    || die LINT_FAILED "ruff sorun buldu (yukarıda): testlerden önce düzeltin. / ruff found problems (listed above): fix them before the tests run."
  python -m mypy >/dev/null || { python -m mypy; die TYPES_FAILED "mypy tür hataları buldu (yukarıda): testlerden önce düzeltin. / mypy found type errors (listed above): fix them before the tests run."; }
  exec python -m pytest "$@"
fi
