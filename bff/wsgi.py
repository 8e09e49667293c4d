"""gunicorn entry point: `gunicorn bff.wsgi:app`."""
from salesync_common.wsgi import build_app

from .app import create_app

app = build_app(create_app, "bff")
