"""GET /openapi.json (generated from the route table at start-up) and GET /docs, a Swagger UI page."""
from __future__ import annotations

from flask import Response, current_app, jsonify

from ..route import Route

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Salesync API</title>
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js" crossorigin></script>
  <script>
    // openapi.json sits beside /docs, wherever the BFF is mounted.
    const url = location.pathname.replace(/docs\\/?$/, "openapi.json");
    window.onload = () => {{ window.ui = SwaggerUIBundle({{url, dom_id: "#swagger-ui"}}); }};
  </script>
</body>
</html>
"""


def openapi_document(route: Route):
    return jsonify(current_app.extensions["bff_openapi"])


def browsable_docs(route: Route):
    return Response(PAGE, mimetype="text/html")
