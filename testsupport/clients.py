"""The Flask test client every service's tests use."""
from __future__ import annotations

from flask.testing import FlaskClient


class CheckedClient(FlaskClient):
    """A test client that fails the test on any 500 and on any error that is not JSON.

    502, 503 and 504 stay allowed: they are how a service reports a failed call downstream.
    """

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        assert response.status_code not in (500, 501), \
            f"server error {response.status_code}: {response.get_data(as_text=True)}"
        if response.status_code >= 400:
            assert response.is_json, f"{response.status_code} is not JSON: {response.get_data(as_text=True)}"
            body = response.get_json()
            assert body["result"] == "failed" and body["error"] and body["message"], body
            assert "Traceback" not in response.get_data(as_text=True)
        return response
