"""GET /consulting[/test]/<req_id>: the job's state, "success" only once the dashboard can show it.

The consulting service says success when its result is on the Kafka topic; the dashboard
stores it a moment later. The frontend reads the text once, right after it sees success,
so until the dashboard has it the BFF keeps answering "not completed".
"""
from __future__ import annotations

from http import HTTPStatus

from salesync_common.service_client import service_client

from ..forwarding import reply_response
from ..route import Route
from ..urls import service_path

# Where the dashboard keeps a finished consulting's text, for the real and the test job alike.
DASHBOARD_TEXT = "/dashboard/consulting/<req_id>"


def consulting_status(route: Route, req_id: str):
    client = service_client()
    reply = client.get(route.service, route.upstream_path({"req_id": req_id}))
    if reply.ok and isinstance(reply.body, dict) and reply.body.get("result") == "success":
        shown = client.get("dashboard", service_path(DASHBOARD_TEXT, {"req_id": req_id}))
        if shown.status == HTTPStatus.NOT_FOUND:
            return reply_response(type(reply)(200, {"result": "not completed", "message": "컨설팅 진행 중",
                                                    "req_id": req_id}, {}))
    return reply_response(reply)
