"""Forward one browser request to its owning service and answer that service's status and JSON unchanged."""
from __future__ import annotations

from flask import Response, jsonify, request

from salesync_common.request_body import json_object
from salesync_common.service_auth import CLIENT_ADDRESS_HEADER
from salesync_common.service_client import ServiceClient, ServiceReply

from .client_address import client_address
from .route import Route

# Besides Authorization and X-Request-ID, which the service client always forwards.
FORWARDED_REQUEST_HEADERS = ("Idempotency-Key",)
# Reply headers the browser may act on: a replayed write, and how long to wait after a 429.
KEPT_REPLY_HEADERS = ("Idempotent-Replayed", "Retry-After")


def forward(route: Route, *, client: ServiceClient, path_args: dict) -> Response:
    """Send the request on as it came: method, path arguments, query string, JSON body, headers."""
    body = json_object() if route.body is not None else None
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers[CLIENT_ADDRESS_HEADER] = client_address()  # the store service throttles password guesses by it
    reply = client.call(route.method, route.service, route.upstream_path(path_args),
                        params=list(request.args.items(multi=True)) or None, json=body, headers=headers,
                        retry=not route.starts_work, passed_on=route.errors, relay=True)
    return reply_response(reply)


def reply_response(reply: ServiceReply) -> Response:
    if reply.raw is not None:
        # The service's JSON as it sent it: written by the same Flask JSON settings the BFF would use.
        response = Response(reply.raw, mimetype="application/json") if reply.raw else Response()
    else:
        response = jsonify(reply.body) if reply.body is not None else Response()
    response.status_code = reply.status
    sent = {name.lower(): value for name, value in reply.headers.items()}
    for name in KEPT_REPLY_HEADERS:
        if name.lower() in sent:
            response.headers[name] = sent[name.lower()]
    return response
