"""GET and POST /bff/costs: the cost page's nested shape over the item service's flat one."""
from __future__ import annotations

from salesync_common.request_body import parse_body
from salesync_common.service_client import service_client

from .. import costs
from ..forwarding import reply_response
from ..route import Route
from ..schemas import CostsForm


def list_costs(route: Route):
    return reply_response(costs.load_costs(client=service_client()))


def save_costs(route: Route):
    form = parse_body(CostsForm)
    return reply_response(costs.save_costs(client=service_client(), form=form))
