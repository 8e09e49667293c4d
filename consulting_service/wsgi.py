"""gunicorn entry point: `gunicorn consulting_service.wsgi:app` (jobs run in `python -m consulting_service.worker`)."""
from salesync_common.wsgi import build_app

from .app import create_app

app = build_app(create_app, "consulting")
