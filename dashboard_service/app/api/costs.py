"""Cost routes (API.md §6.4-6.6): the item service keeps costs; its answer is passed on as it is."""
from __future__ import annotations

from flask import Blueprint, jsonify

from salesync_common.errors import UpstreamError
from salesync_common.request_body import json_object
from salesync_common.service_client import ServiceReply, service_client
from salesync_common.tokens import login_required

from .. import costs

bp = Blueprint("costs", __name__, url_prefix="/dashboard/costs")


def _passed_on(reply: ServiceReply):
    if not isinstance(reply.body, dict):
        raise UpstreamError("the item service sent a reply that is not a JSON object",
                            error="upstream_bad_reply", service="item")
    return jsonify(reply.body), reply.status


@bp.get("")
@login_required
def list_costs():
    return _passed_on(costs.list_costs(client=service_client()))


@bp.post("")
@login_required
def set_costs():
    return _passed_on(costs.set_costs(client=service_client(), body=json_object()))


@bp.put("/<int:item_id>")
@login_required
def set_cost(item_id: int):
    return _passed_on(costs.set_cost(client=service_client(), item_id=item_id, body=json_object()))
