"""The Flask test client every service's tests use."""
from __future__ import annotations

from flask.testing import FlaskClient

from salesync_common.service_auth import SERVICE_TOKEN_HEADER

from .settings import service_headers


class CheckedClient(FlaskClient):
    """A test client that fails the test on any 500 and on any error that is not JSON.

    502, 503 and 504 stay allowed: they are how a service reports a failed call downstream.
    Each request carries a service token from `caller` (the BFF unless told, as in the cluster) unless
    the test sends its own header; caller=None sends none (a caller with only a store's token).
    """

    def __init__(self, *args, caller: str | None = "bff", **kwargs):
        super().__init__(*args, **kwargs)
        self.caller = caller

    def open(self, *args, **kwargs):
        headers = kwargs.get("headers")
        settings = self.application.extensions.get("salesync_settings")
        if self.caller is not None and settings is not None and not (headers and SERVICE_TOKEN_HEADER in dict(headers)):
            audience = settings.service
            kwargs["headers"] = {**dict(headers or {}), **service_headers(audience, self.caller)}
        response = super().open(*args, **kwargs)
        assert response.status_code not in (500, 501), \
            f"server error {response.status_code}: {response.get_data(as_text=True)}"
        if response.status_code >= 400:
            assert response.is_json, f"{response.status_code} is not JSON: {response.get_data(as_text=True)}"
            body = response.get_json()
            assert body["result"] == "failed" and body["error"] and body["message"], body
            assert "Traceback" not in response.get_data(as_text=True)
        return response
