"""GET /openapi.json (generated from the route table at start-up) and GET /docs, a Swagger UI page served
entirely by the BFF: Swagger UI's files come from the flask-swagger-ui package (no CDN, works offline),
the script that starts it is a file of the BFF's, and the page's Content-Security-Policy allows only itself."""
from __future__ import annotations

import functools
import importlib.util
import pathlib

from flask import Response, current_app, jsonify, request, send_file

from ..route import Route

OWN_FILES = pathlib.Path(__file__).resolve().parent.parent / "static"
# Only the BFF itself; Swagger UI's style sheet draws a few icons as data: images.
CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")
# The page's files, each one route of the table: (where it is, its media type).
FILES = {
    "swagger-ui.css": ("package", "text/css"),
    "swagger-ui-bundle.js": ("package", "text/javascript"),
    "docs.js": ("own", "text/javascript"),
}

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Salesync API</title>
  <link rel="stylesheet" href="{prefix}swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{prefix}swagger-ui-bundle.js"></script>
  <script src="{prefix}docs.js"></script>
</body>
</html>
"""


def openapi_document(route: Route):
    return jsonify(current_app.extensions["bff_openapi"])


def browsable_docs(route: Route):
    # Relative links, so the page works wherever the BFF is mounted, at /docs and at /docs/ alike.
    prefix = "" if request.path.endswith("/") else "docs/"
    return _with_policy(Response(PAGE.format(prefix=prefix), mimetype="text/html"))


def docs_file(route: Route):
    name = pathlib.PurePosixPath(route.path).name
    where, media_type = FILES[name]
    folder = swagger_ui_files() if where == "package" else OWN_FILES
    return _with_policy(send_file(folder / name, mimetype=media_type, max_age=3600, conditional=True))


@functools.cache
def swagger_ui_files() -> pathlib.Path:
    """Swagger UI's built files, as the flask-swagger-ui package ships them (its Flask blueprint is not used)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("flask-swagger-ui is not installed (bff/requirements.txt)")
    return pathlib.Path(spec.origin).parent / "dist"


def _with_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
