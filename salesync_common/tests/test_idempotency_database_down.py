"""An Idempotency-Key does not turn a database outage into "still being processed": the claim of the key is
the first statement of a keyed write, and a database it cannot reach answers the same JSON 503 (with
Retry-After) as the unkeyed write, so the POS retries instead of showing a payment in progress."""
import pytest

from order_service.app import create_app
from salesync_common.tokens import issue_token
from testsupport.clients import CheckedClient
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests

# Nothing listens on port 1: every connection attempt is refused at once.
UNREACHABLE = "postgresql+psycopg2://salesync@127.0.0.1:1/salesync"


@pytest.fixture(scope="module")
def client():
    app = create_app(settings_for_tests("order", UNREACHABLE))
    app.test_client_class = CheckedClient
    return app.test_client()


@pytest.mark.parametrize("key", [None, "order-1"])
def test_a_write_while_the_database_is_unreachable_answers_503_with_or_without_a_key(client, key):
    token = issue_token(store_id=1, secret=TEST_JWT_SECRET, ttl_seconds=60)
    headers = {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}
    response = client.post("/orders/", json={"table_no": 1, "carts": []}, headers=headers)
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"] == "database_unavailable"
    assert response.headers["Retry-After"]
