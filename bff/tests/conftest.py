"""The BFF in front of the real store, item, order and sale services (and the dashboard and
consulting services where a test asks for them), all over HTTP on loopback: no mocks."""
import socket
import urllib.parse
import uuid

import pytest
from werkzeug.exceptions import HTTPException

from bff.app import create_app
from bff.app.routes import ROUTES
from bff.app.schemas import Error
from testsupport.bff_contract import check_reply
from testsupport.clients import CheckedClient
from testsupport.served import local_service_urls
from testsupport.settings import settings_for_tests
from testsupport.shop import OWNER, Shop, TestClient

ROUTE_BY_ENDPOINT = {f"gateway.{route.endpoint}": route for route in ROUTES}


def closed_port_url() -> str:
    """An address where nothing listens (a port the kernel just handed out and took back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class ContractClient(CheckedClient):
    """CheckedClient, and every answer through the BFF keeps the public contract:
    CORS on every response, never a redirect, and the body matches the route's documented models
    (a success reply exactly: no field the document lacks)."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        method = kwargs.get("method", "GET")
        assert response.status_code not in (301, 302, 307, 308), f"redirect to {response.headers.get('Location')}"
        assert response.headers.get("Access-Control-Allow-Origin") == "*", dict(response.headers)
        if method == "OPTIONS" or not args or not isinstance(args[0], str):
            return response
        if response.status_code >= 400:
            Error.model_validate(response.get_json())
            return response
        route = self._route(method, urllib.parse.urlsplit(args[0]).path)
        if route is not None and route.response is not None and response.is_json:
            check_reply(route.response, response.get_json())
            if route.body is not None and kwargs.get("json") is not None:
                route.body.model_validate(kwargs["json"])
        return response

    def _route(self, method, path):
        try:
            endpoint, _ = self.application.url_map.bind("localhost").match(path, method=method)
        except HTTPException:
            return None
        return ROUTE_BY_ENDPOINT.get(endpoint)


def bff_app(service_urls, **settings):
    app = create_app(settings_for_tests("bff", None, service_urls=service_urls, **settings))
    app.test_client_class = ContractClient
    return app


@pytest.fixture(scope="session")
def backends(store_service, item_service, order_service, sale_service):
    """The four core services; dashboard and consulting at an address where nothing answers."""
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service)
    urls.update(dashboard=closed_port_url(), consulting=closed_port_url())
    return urls


@pytest.fixture(scope="session")
def app(backends):
    return bff_app(backends)


@pytest.fixture(scope="session")
def dashboard_app(backends, dashboard_service):
    """The BFF with the dashboard service too."""
    return bff_app({**backends, "dashboard": dashboard_service.url})


@pytest.fixture(scope="session")
def consulting_app(backends, dashboard_service, consulting_service):
    """The BFF with the dashboard and consulting services too."""
    return bff_app({**backends, "dashboard": dashboard_service.url, "consulting": consulting_service.url})


@pytest.fixture
def client(app):
    return app.test_client()


def owner(**changes):
    return {**OWNER, "username": f"bff{uuid.uuid4().hex[:10]}", "store_name": "피자가게", **changes}


class Pos(Shop):
    """One store's POS frontend talking to the BFF as the browser does (API.md §12.1)."""

    def __init__(self, client):
        super().__init__(TestClient(client))
        self.client = client
        self.sign_up(csrf=True, **owner())

    def menu(self, categories):
        """{category: {item: price}} -> {category or item: id}, through the BFF."""
        items = self.build_menu(categories)
        return {**{name: self.categories[name] for name in categories}, **items}


MENU = {"피자": {"포테이토 피자": 21000, "페퍼로니 피자": "24000"}, "음료": {"콜라": 2000}}


@pytest.fixture
def pos(client):
    """A signed-up store (through the BFF) with a two-category menu; pos.ids maps names to ids."""
    def _pos(menu=MENU):
        terminal = Pos(client)
        terminal.ids = terminal.menu(menu)
        return terminal
    return _pos
