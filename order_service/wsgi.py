"""gunicorn entry point: `gunicorn order_service.wsgi:app`."""
from salesync_common.wsgi import build_app

from .app import create_app

app = build_app(create_app, "order")
