"""The OpenAPI 3.1 document of the public API, generated from the route table and its pydantic models.

pydantic writes JSON Schema 2020-12, which OpenAPI 3.1 takes as it is; the models land under
#/components/schemas and every operation refers to them.
"""
from __future__ import annotations

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .route import Route
from .schemas import Error
from .urls import PATH_PARAMETER

SCHEMA_REF = "#/components/schemas/{model}"
TITLE = "Salesync public API"
DESCRIPTION = (
    "The one base URL of the Salesync POS: the backend-for-frontend forwards each path to the service "
    "that owns it and answers that service's status and JSON unchanged. Send `Authorization: Bearer <token>` "
    "(from sign-up or login) on every route but sign-up, login and the username check; an `X-CSRF-Token` "
    "header is accepted and ignored. Every error is JSON: `{result: \"failed\", error, message, field?}`."
)

ERROR_MEANINGS = {
    400: "A missing or malformed field (named by `field`) or query parameter, or JSON nested deeper than 32 levels",
    401: "No valid login token (missing, `Bearer null`, a bad signature or expired)",
    403: "Not the caller's own store",
    404: "No such thing in the caller's store",
    409: "Conflicts with what exists (a duplicate name, an open order, a differing total)",
    413: "The body is larger than 64 KB",
    415: "The body is not JSON",
    422: "The Idempotency-Key was already used with another request",
    429: "Too many requests (failed logins, consulting jobs, settlement messages); see Retry-After",
    502: "The owning service failed",
    503: "The owning service cannot be reached, is busy with as many requests from this server as it may have "
         "(upstream_busy), or (settlement SMS) the deployment's daily limit is reached; see Retry-After",
    504: "The owning service did not answer in time, or the request ran out of its deadline (deadline_exceeded)",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "The same key with the same body replays the first answer (header Idempotent-Replayed: true); "
                   "with another body 422; while the first is still running 409.",
}
CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0}}


def openapi_path(rule: str) -> str:
    return PATH_PARAMETER.sub(lambda match: "{" + match["name"] + "}", rule)


def build_document(routes: list[Route], *, version: str = "1.0.0") -> dict:
    bodies = {route.body for route in routes if route.body is not None}
    replies = {route.response for route in routes if route.response is not None} | {Error}
    refs, definitions = models_json_schema(
        [(model, "validation") for model in sorted(bodies, key=_name)]
        + [(model, "serialization") for model in sorted(replies, key=_name)],
        ref_template=SCHEMA_REF)
    paths: dict[str, dict] = {}
    for route in routes:
        paths.setdefault(openapi_path(route.path), {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": version, "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _name(model: type[BaseModel]) -> str:
    return model.__name__


def _operation(route: Route, refs: dict) -> dict:
    operation = {"operationId": route.endpoint, "summary": route.summary, "tags": [route.tag],
                 "description": _where(route)}
    parameters = _path_parameters(route.path) + _query_parameters(route.query)
    if route.idempotent:
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(route.body, "validation")]}}}
    operation["responses"] = _responses(route, refs)
    operation["security"] = [{"bearerAuth": []}] if route.auth else []
    return operation


def _where(route: Route) -> str:
    if route.service is None:
        return "Answered by the BFF itself."
    if route.handler is not None:
        return f"Built by the BFF from the {route.service} service."
    return f"Forwarded to the {route.service} service: `{route.method} {openapi_path(route.upstream or route.path)}`."


def _path_parameters(rule: str) -> list[dict]:
    return [{"name": match["name"], "in": "path", "required": True,
             "schema": CONVERTER_SCHEMAS.get(match["converter"], {"type": "string"})}
            for match in PATH_PARAMETER.finditer(rule)]


def _query_parameters(model: type[BaseModel] | None) -> list[dict]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field_schema in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required, "schema": _not_null(field_schema)}
        if "description" in field_schema:
            parameter["description"] = field_schema["description"]
        parameters.append(parameter)
    return parameters


def _not_null(field_schema: dict) -> dict:
    """An optional query parameter is absent, never null: keep the one other choice."""
    schema = {key: value for key, value in field_schema.items() if key not in ("description", "default")}
    choices = [choice for choice in schema.get("anyOf", ()) if choice != {"type": "null"}]
    nulls = len(schema.get("anyOf", ())) - len(choices)
    if len(choices) == 1 and nulls == 1:
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **choices[0]}
    return schema


def _responses(route: Route, refs: dict) -> dict:
    success: dict = {"description": route.summary}
    if route.response is not None:
        success["content"] = {route.content_type: {"schema": refs[(route.response, "serialization")]}}
    else:
        success["content"] = {route.content_type: {"schema": {"type": "string"}}}
    if route.idempotent:
        success["headers"] = {"Idempotent-Replayed": {
            "description": "true when this is the replay of an earlier answer", "schema": {"type": "string"}}}
    responses = {str(route.status): success}
    error_ref = {"application/json": {"schema": refs[(Error, "serialization")]}}
    for status in sorted(_error_statuses(route)):
        responses[str(status)] = {"description": ERROR_MEANINGS[status], "content": error_ref}
    return responses


def _error_statuses(route: Route) -> set[int]:
    statuses = set(route.errors)
    if route.auth:
        statuses.add(401)
    if route.body is not None:
        statuses |= {400, 413, 415}
    if route.query is not None:
        statuses.add(400)
    if route.service is not None:
        statuses |= {502, 503, 504}
    return statuses
