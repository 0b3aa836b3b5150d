"""WSGI entry point (``kentcbs serve`` runs it under gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")
application = get_wsgi_application()
