from flask import Flask

from salesync_common import init_service
from testsupport.settings import settings_for_tests


def test_requests_are_counted_by_route_template_and_status():
    app = Flask("metered")
    init_service(app, settings_for_tests("item", None))

    @app.get("/things/<int:thing_id>")
    def thing(thing_id):
        return {"id": thing_id}

    client = app.test_client()
    for thing_id in (1, 2, 3):
        client.get(f"/things/{thing_id}")
    client.get("/nowhere")

    body = client.get("/metrics").get_data(as_text=True)

    assert 'http_requests_total{method="GET",route="/things/<int:thing_id>",service="item",status="200"} 3.0' in body
    assert 'route="unmatched",service="item",status="404"' in body
    assert "/things/1" not in body
    assert 'http_request_duration_seconds_bucket{le="0.05",method="GET",route="/things/<int:thing_id>"' in body
    assert 'http_requests_in_flight{service="item"}' in body
