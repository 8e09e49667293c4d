"""Every route of the table, registered once: check the token, then forward or run the route's own view.

The table comes in as an argument (create_app passes app/routes.py's ROUTES): the table names the
handler modules beside this one, so importing it here would make a circle."""
from __future__ import annotations

from flask import Blueprint, current_app

from salesync_common import deadlines
from salesync_common.service_client import service_client
from salesync_common.tokens import authenticated_store_id

from ..bulkheads import Bulkheads
from ..forwarding import forward
from ..route import Route
from ..sessions import refuse_ended_session


def _view(route: Route):
    def view(**path_args):
        settings = current_app.extensions["salesync_settings"]
        # The clock starts here, whatever deadline header the browser sent (only services believe one).
        deadlines.start((settings.report_deadline_ms if route.report else settings.request_deadline_ms) / 1000)
        if route.auth:
            # A missing, expired or forged token is refused here, before any service is called,
            # and so is a token the store's last password change ended.
            refuse_ended_session(client=service_client(), store_id=authenticated_store_id())
        bulkheads: Bulkheads = current_app.extensions["bff_bulkheads"]
        with bulkheads.slot(route.service):
            if route.handler is not None:
                return route.handler(route, **path_args)
            return forward(route, client=service_client(), path_args=path_args)
    view.__name__ = route.endpoint
    view.__doc__ = route.summary
    return view


def blueprint(routes: list[Route]) -> Blueprint:
    bp = Blueprint("gateway", __name__)
    for route in routes:
        bp.add_url_rule(route.path, endpoint=route.endpoint, view_func=_view(route), methods=[route.method])
    return bp
