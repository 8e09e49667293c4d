import os
import pathlib
import subprocess
import sys
import time

import jwt
import pytest
from flask import Flask, g, jsonify

from salesync_common import init_service
from salesync_common.service_auth import (
    SERVICE_TOKEN_HEADER,
    ServiceTokens,
    called_by,
    issue_service_token,
    require_service_token,
)
from salesync_common.service_client import ServiceClient
from salesync_common.settings import ConfigError, Settings
from salesync_common.tokens import issue_token
from testsupport.settings import TEST_JWT_SECRET, TEST_SERVICE_SECRET, settings_for_tests


@pytest.fixture
def client():
    app = Flask("guarded")
    init_service(app, settings_for_tests("order", None))
    require_service_token(app)

    @app.get("/anything")
    def anything():
        return jsonify(caller=g.calling_service)

    @app.post("/internal/close")
    @called_by("sale")
    def close():
        return jsonify(closed=True)

    return app.test_client()


REPO = pathlib.Path(__file__).resolve().parents[2]


def token(issuer="bff", audience="order", secret=TEST_SERVICE_SECRET, **kwargs):
    return {SERVICE_TOKEN_HEADER: issue_service_token(issuer=issuer, audience=audience, secret=secret, **kwargs)}


def store_token():
    return {"Authorization": "Bearer " + issue_token(store_id=1, secret=TEST_JWT_SECRET, ttl_seconds=600)}


def test_a_service_token_for_this_service_is_let_through_and_names_the_caller(client):
    response = client.get("/anything", headers={**store_token(), **token("dashboard")})
    assert response.status_code == 200 and response.get_json() == {"caller": "dashboard"}


@pytest.mark.parametrize("headers,status,error", [  # made when the test runs: a service token lives 60 s
    (dict, 401, "service_token_required"),
    (store_token, 401, "service_token_required"),
    (lambda: {SERVICE_TOKEN_HEADER: store_token()["Authorization"][7:]}, 401, "invalid_service_token"),
    (lambda: token(secret="x" * 48), 401, "invalid_service_token"),
    (lambda: token(now=time.time() - 120), 401, "service_token_expired"),
    (lambda: token(issuer="mallory"), 401, "invalid_service_token"),
    (lambda: token(audience="store"), 403, "wrong_audience"),
    (lambda: {SERVICE_TOKEN_HEADER: jwt.encode({"iss": "bff", "sub": "bff", "aud": "order", "exp": time.time() + 60,
                                                "iat": time.time()}, TEST_SERVICE_SECRET)},
     401, "invalid_service_token"),
], ids=["none", "store token only", "store token as service token", "wrong secret", "expired", "unknown service",
        "meant for another service", "not a service token"])
def test_a_request_without_a_valid_service_token_for_this_service_is_refused(client, headers, status, error):
    response = client.get("/anything", headers=headers())
    assert response.status_code == status
    assert response.get_json()["error"] == error and response.get_json()["result"] == "failed"


def test_probes_and_metrics_need_no_service_token(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_a_route_for_one_service_refuses_the_others(client):
    assert client.post("/internal/close", headers=token("sale")).get_json() == {"closed": True}
    refused = client.post("/internal/close", headers=token("bff"))
    assert refused.status_code == 403 and refused.get_json()["error"] == "caller_not_allowed"


def test_a_caller_reuses_its_token_until_close_to_expiry():
    now = [1_000_000.0]
    tokens = ServiceTokens(issuer="sale", secret=TEST_SERVICE_SECRET, clock=lambda: now[0])
    first = tokens.token_for("order")
    now[0] += 40
    assert tokens.token_for("order") == first
    assert tokens.token_for("store") != first
    now[0] += 10  # 10 s left of the first one: a new one
    renewed = tokens.token_for("order")
    assert renewed != first
    claims = jwt.decode(renewed, TEST_SERVICE_SECRET, algorithms=["HS256"], audience="order",
                        options={"verify_exp": False})
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("sale", "sale", "order")
    assert claims["exp"] - claims["iat"] == 60


def test_the_service_client_sends_a_service_token_naming_both_services():
    client = ServiceClient(settings_for_tests("sale", None))
    sent = client.service_tokens.token_for("order")
    claims = jwt.decode(sent, TEST_SERVICE_SECRET, algorithms=["HS256"], audience="order")
    assert claims["iss"] == "sale"


@pytest.mark.parametrize("env,message", [
    ({"SALESYNC_ENV": "production", "DATABASE_URL": "postgresql://db/x", "SALESYNC_JWT_SECRET": "j" * 40},
     "SALESYNC_SERVICE_SECRET must be set in production"),
    ({"SALESYNC_JWT_SECRET": "j" * 40, "SALESYNC_SERVICE_SECRET": "short"}, "at least 32"),
    ({"SALESYNC_JWT_SECRET": "j" * 40, "SALESYNC_SERVICE_SECRET": "j" * 40}, "must differ"),
])
def test_the_service_secret_is_required_in_production_long_and_not_the_jwt_secret(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env("store", env=env)


def test_production_starts_with_both_secrets():
    env = {"SALESYNC_ENV": "production", "DATABASE_URL": "postgresql://db/x", "SALESYNC_JWT_SECRET": "j" * 40,
           "SALESYNC_SERVICE_SECRET": "s" * 40}
    assert Settings.from_env("store", env=env).service_secret == "s" * 40


def test_a_production_service_without_the_service_secret_stops_with_one_line():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    env.update(SALESYNC_ENV="production", DATABASE_URL="postgresql://db/x", SALESYNC_JWT_SECRET="j" * 40,
               PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", "import order_service.wsgi"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3
    assert "configuration error: SALESYNC_SERVICE_SECRET must be set in production" in result.stderr
    assert "Traceback" not in result.stderr
