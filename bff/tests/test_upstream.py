"""Calls to the owning services: one that cannot be reached is a 503 JSON with CORS, and a path stays its route."""
from bff.app.routes import ROUTES
from testsupport.shop import Shop, TestClient

from .conftest import bff_app, closed_port_url


def test_a_service_that_is_down_is_a_503_json_with_cors(backends):
    app = bff_app({**backends, "sale": closed_port_url()})
    client = app.test_client()
    headers = Shop(TestClient(client)).sign_up().headers  # a real store: the BFF asks the store service about it

    for response in (client.get("/sales/", headers=headers),
                     client.post("/sales/", json={"table_no": 1, "payment_type": "카드", "total_price": 1},
                                 headers=headers)):
        assert response.status_code == 503
        assert response.get_json()["error"] == "upstream_unavailable"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    # the others still answer
    assert client.get("/stores/check?username=nobody1234").status_code == 200


def test_a_path_argument_stays_one_segment_of_the_same_route():
    route = next(route for route in ROUTES if route.path == "/consulting/test/<req_id>")
    assert route.upstream_path({"req_id": ".."}) == "/consulting/test/%2E%2E"
    assert route.upstream_path({"req_id": "a/b?c#d"}) == "/consulting/test/a%2Fb%3Fc%23d"
