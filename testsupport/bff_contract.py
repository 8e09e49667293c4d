"""The BFF's public contract as the tests hold it: a success reply has exactly the fields its route's
model documents, so a field a service adds to a reply that the OpenAPI document lacks fails a test.

The BFF passes replies on unchanged and its models stay as the document shows them; only here are they
closed to unknown fields. A model that declares its extra fields open (extra="allow": Error and
OpenApiDocument, which the document shows as open too) keeps them open.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from bff.app.route import Route
from bff.app.routes import documented_routes

SUCCESS = range(200, 300)
_ROUTES = {route.endpoint: route for route in documented_routes()}
# The table's rules as the BFF serves them: either form of a trailing slash, without a redirect.
_RULES = Map([Rule(route.path, endpoint=route.endpoint, methods=[route.method]) for route in _ROUTES.values()],
             strict_slashes=False)


def check_reply(model: type[BaseModel], body) -> BaseModel:
    """Validate a reply against its documented model, unknown fields refused (unless the model opens them)."""
    extra = None if model.model_config.get("extra") == "allow" else "forbid"
    return model.model_validate(body, extra=extra)


def route_for(method: str, url: str) -> Route | None:
    """The route of the table that serves `method url`, or None."""
    try:
        endpoint, _ = _RULES.bind("localhost").match(urlsplit(url).path, method=method.upper())
    except HTTPException:
        return None
    return _ROUTES[endpoint]


def check_answer(method: str, url: str, status: int, body) -> None:
    """A success reply of a JSON route matches that route's documented model exactly."""
    route = route_for(method, url)
    if route is not None and route.response is not None and route.content_type == "application/json" \
            and status in SUCCESS:
        check_reply(route.response, body)
