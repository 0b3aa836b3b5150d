"""WSGI entry point (``kentcbs serve`` runs it under gunicorn)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gis_core.settings")

application = get_wsgi_application()

# Everything loaded so far (Django, GeoDjango, pygeoapi, the layer registry) lives as
# long as the worker: keep it out of the cyclic garbage collector's scans, so that a
# collection during a request walks the request's own objects only.
gc.freeze()
