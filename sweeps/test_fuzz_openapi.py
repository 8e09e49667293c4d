"""Fuzzing the BFF with schemathesis, from the OpenAPI document it serves at /openapi.json.

Every operation of the document is its own test. Requests go over real HTTP to the BFF, which calls
the six real services. The token is that of a real store with a menu, costs, open tables, sales and
consulting jobs, and about half of the generated ids, dates, table numbers, totals and passwords are
swapped for that store's real ones, so requests reach deep into the services instead of stopping
at "not found" or at a rule the document only describes in words.

Checks on every answer:
- no 5xx (schemathesis's not_a_server_error);
- the body matches the document's schema for its status (response_schema_conformance);
- no traceback text in the body;
- the BFF's own contract for every answer: CORS, never a redirect, every 4xx/5xx the common JSON error.

`make test` runs the quick mode: a few examples per operation, with a fixed seed. SALESYNC_FUZZ_LONG=1
runs the long mode: a random seed (printed in the summary; SALESYNC_FUZZ_SEED=<n> repeats a run),
40 examples per operation plus schemathesis's coverage phase, over 1,000 requests in all.
SALESYNC_FUZZ_LOG=<file> writes one JSON line per request (method, URL, status, body, answer).
SALESYNC_FUZZ_DOC_CHECKS=1 also lists at the end of the run, without failing, where the document is
looser or stricter than the services (undocumented statuses, valid data refused, invalid data accepted).
"""
from __future__ import annotations

import datetime
import json
import os
import random
import re
import uuid

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from bff.app.openapi import build_document, openapi_path
from bff.app.routes import documented_routes
from bff.app.schemas import Error
from testsupport.bff_contract import check_reply

from .support import DOC_NOTES, ORIGIN, PASSWORD, REQUESTS, TODAY, open_shop

LONG = os.environ.get("SALESYNC_FUZZ_LONG") == "1"
SEED = int(os.environ.get("SALESYNC_FUZZ_SEED") or (random.randrange(2**31) if LONG else 20240601))
MAX_EXAMPLES = 40 if LONG else 10
TALLY = f"fuzz, {'long' if LONG else 'quick'} mode (seed {SEED}): generated requests"
SETUP_TALLY = "fuzz: setting the store up and restocking it"
LOG = os.environ.get("SALESYNC_FUZZ_LOG")
DOC_CHECKS = os.environ.get("SALESYNC_FUZZ_DOC_CHECKS") == "1"

# The document the BFF serves is built from its route table at start-up; the first test checks that
# /openapi.json is exactly this, so what is fuzzed is what is served (and a new route is fuzzed at once).
DOCUMENT = build_document(documented_routes())
ROUTE_OF_OPERATION = {(route.method, openapi_path(route.path)): route for route in documented_routes()}
CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "suppress-health-check": ["all"],
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none", "deterministic": not LONG,
                   "with-security-parameters": False},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": LONG}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
})
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

EDGE_DAYS = ["0001-01-01", "9999-12-31", "2024-02-29"]
# Real values by field name, kept up to date by the `restocked` fixture before each operation runs.
REAL: dict[str, list] = {}
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|werkzeug debugger"
                       r"|sqlalchemy\.exc\.|psycopg\.errors\.", re.I)


def _real(name: str, drawn):
    """About half of the drawn values become one of the store's real values of that name."""
    values = REAL.get(name)
    if not values or isinstance(drawn, bool) or not isinstance(drawn, (int, str)):
        return drawn
    pick = drawn if isinstance(drawn, int) else len(drawn)
    if pick % 2:
        return drawn
    return values[(pick // 2) % len(values)]


@SCHEMA.hook
def map_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):
        return path_parameters
    return {name: _real(name, value) for name, value in path_parameters.items()}


@SCHEMA.hook
def map_query(context, query):
    if not isinstance(query, dict):
        return query
    return {name: _real(name, value) for name, value in query.items()}


@SCHEMA.hook
def map_headers(context, headers):
    """A generated Idempotency-Key is often "" or "0" again; half of them become fresh keys."""
    key = (headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and len(key) % 2 == 0:
        headers = {**headers, "Idempotency-Key": f"fuzz-{uuid.uuid4().hex}"}
    return headers


@SCHEMA.hook
def map_body(context, body):
    def walk(value):
        if isinstance(value, dict):
            return {key: _real(key, inner) if key in REAL else walk(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [walk(inner) for inner in value]
        return value
    return walk(body)


@schemathesis.check
def no_traceback(ctx, response, case):
    found = TRACEBACK.search(response.text or "")
    if found:
        raise AssertionError(f"the body carries traceback text: {found.group(0)!r}")


@schemathesis.check
def bff_answer_contract(ctx, response, case):
    """The BFF's contract for every answer (as bff/tests' ContractClient has it): CORS, never a
    redirect, every 4xx/5xx the common JSON error, and a JSON success reply exactly its route's model."""
    allowed = response.headers.get("access-control-allow-origin")
    if (allowed[0] if isinstance(allowed, list) else allowed) != "*":
        raise AssertionError(f"no Access-Control-Allow-Origin: * on a {response.status_code}")
    if 300 <= response.status_code < 400:
        location = response.headers.get("location")
        raise AssertionError(f"a {response.status_code} redirect to {location[0] if location else None}")
    if response.status_code >= 400:
        try:
            Error.model_validate(json.loads(response.text))
        except ValueError as exc:
            raise AssertionError(f"a {response.status_code} that is not the JSON error shape: {exc}") from None
        return
    route = ROUTE_OF_OPERATION[(case.method.upper(), case.operation.path)]
    if route.response is not None and route.content_type == "application/json":
        try:
            check_reply(route.response, json.loads(response.text))
        except ValueError as exc:
            raise AssertionError(f"a {response.status_code} reply the document does not describe: {exc}") from None


CHECKS = [not_a_server_error, response_schema_conformance, no_traceback, bff_answer_contract]
# Informational: where the document and the services disagree on what is valid.
DOC_ONLY_CHECKS = [status_code_conformance, positive_data_acceptance, negative_data_rejection]
ROUTING_404 = "The requested URL was not found on the server"


@pytest.fixture(scope="module")
def shop(bff_served, dashboard_app, no_aws):
    """The store whose token every request carries."""
    store = open_shop(bff_served.url, tally=SETUP_TALLY, label="퍼즈", dashboard_app=dashboard_app)
    # recent business days, and the calendar's edges and a leap day
    days = [(TODAY - datetime.timedelta(days=n)).isoformat() for n in (0, 1, 6, 30)] + EDGE_DAYS
    REAL.update(sale_id=store.sales, req_id=store.req_ids, store_id=[store.store_id],
                date=days, start=days[::-1], end=days,
                # the rules of sign-up, login and password change that the document gives only in words
                username=[store.username], password=[PASSWORD], owner_name=["홍길동", "Kim"],
                time_zone=["Asia/Seoul", "America/New_York", "Pacific/Kiritimati", "UTC"])
    yield store
    REAL.clear()


@pytest.fixture
def restocked(shop):
    """Before each operation: the store again has a live item and open orders at tables 3 and 0,
    whatever the operations before deleted, cancelled or paid; REAL gets the current ids and totals."""
    browser = shop.browser
    menu = browser.call("GET", "/categories/items")["categories"]
    if not menu:
        menu = [{"category_id": browser.call("POST", "/categories/", {"name": f"재입고{uuid.uuid4().hex[:6]}"},
                                             expect=201)["id"], "items": []}]
    if not any(category["items"] for category in menu):
        item_id = browser.call("POST", f"/categories/{menu[0]['category_id']}/items",
                               {"name": f"재입고{uuid.uuid4().hex[:6]}", "price": 3000}, expect=201)["id"]
        menu[0]["items"].append({"item_id": item_id})
    live_items = [item["item_id"] for category in menu for item in category["items"]]
    open_orders = {order["table_no"]: order for order in browser.call("GET", "/orders/unpaids")["orders"]}
    for table_no in (3, 0):
        if table_no not in open_orders:
            browser.call("POST", "/orders/",
                         {"table_no": table_no, "carts": [{"item_id": live_items[0], "quantity": 2}]})
    open_orders = {order["table_no"]: order for order in browser.call("GET", "/orders/unpaids")["orders"]}
    REAL.update(category_id=[category["category_id"] for category in menu] + [shop.deleted_category],
                item_id=live_items + [shop.deleted_item], table_no=sorted(open_orders) + [4, 5],
                total_price=[order["total_price"] for order in open_orders.values()])
    return shop


@pytest.fixture(scope="module")
def bff_session():
    with requests.Session() as session:
        yield session


def test_the_served_document_is_the_one_fuzzed(bff_served):
    assert requests.get(bff_served.url + "/openapi.json", timeout=10).json() == json.loads(json.dumps(DOCUMENT))


@SCHEMA.parametrize()
def test_the_bff_keeps_its_contract(case, bff_served, restocked, bff_session):
    headers = {"Authorization": f"Bearer {restocked.browser.token}", "Origin": ORIGIN}
    REQUESTS[TALLY] += 1
    response = case.call(base_url=bff_served.url, session=bff_session, headers=headers, timeout=30)
    if LOG:
        _log(case, response)
    if DOC_CHECKS and ROUTING_404 not in response.text:
        try:
            case.validate_response(response, checks=DOC_ONLY_CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                kind = f"{case.method} {case.path} -> {response.status_code} {failure.title}"
                DOC_NOTES.setdefault(kind, f"{kind}: e.g. {response.request.method} {response.request.url} "
                                           f"body={_body(case)} -> {response.text[:160]}")
    known = next((finding for finding in KNOWN_FINDINGS if finding.explains(case, response)), None)
    if known is not None:
        REQUESTS[f"fuzz: answers explained by a known finding ({known.name})"] += 1
        return
    case.validate_response(response, checks=CHECKS, headers=headers)


def _body(case) -> str:
    try:
        return json.dumps(case.body, ensure_ascii=False)[:200]
    except TypeError:
        return "(none)"


def _log(case, response) -> None:
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"method": case.method, "path": case.path, "url": response.request.url,
                              "status": response.status_code, "body": _body(case), "answer": response.text[:500]},
                             ensure_ascii=False) + "\n")


# ---- what the fuzzing found -------------------------------------------------------------------------
# Each finding names the service bug, explains the generated answers it causes (so the fuzzing stays
# green and goes on finding other things), and replays its exact requests as xfail(strict=True) tests
# below: when the bug is fixed they pass, strict xfail turns that into a failure, and the finding is
# deleted from this list (which also stops the fuzzing from excusing those answers).

class Finding:
    def __init__(self, name: str, reason: str, requests: list[str], explains):
        self.name, self.reason, self.requests, self._explains = name, reason, requests, explains

    def explains(self, case, response) -> bool:
        return self._explains(case, response)


def _parameter_values(case) -> set:
    values = set()
    for container in (case.path_parameters, case.query):
        if isinstance(container, dict):
            values |= {str(value) for value in container.values() if not isinstance(value, (list, dict))}
    return values


KNOWN_FINDINGS: list[Finding] = []

# Findings since fixed; their exact requests are replayed on every run so they stay fixed.
FIXED_FINDINGS = {
    # business_day.period_bounds() added a day to 9999-12-31 (OverflowError): 500 in sale and order, 502 here
    "the last day of the calendar was a 5xx": [
        "GET /sales/daily?date=9999-12-31", "GET /sales/period?start=9999-12-31&end=9999-12-31",
        "GET /bff/sales?start=9999-12-31&end=9999-12-31", "GET /bff/volumes?start=9999-12-31&end=9999-12-31"],
    # the server decodes %2F before routing and merged slashes sent "//" to another route (a 308, or a new job)
    "a slash in a path parameter reached another route": [
        "GET /consulting/test/%2F", "GET /dashboard/consulting/test/%2F",
        "GET /consulting/%2F?start=2024-01-01&end=2024-01-01", "GET /dashboard/consulting/%2F"],
}


@pytest.mark.parametrize("request_line", [
    *(pytest.param(line, id=f"{finding.name}: {line}", marks=pytest.mark.xfail(strict=True, reason=finding.reason))
      for finding in KNOWN_FINDINGS for line in finding.requests),
    *(pytest.param(line, id=f"{name}: {line}") for name, lines in FIXED_FINDINGS.items() for line in lines)])
def test_a_fuzzing_finding_is_fixed(request_line, shop, bff_session, bff_served):
    """The exact request a finding was seen with: no 5xx, no redirect, a JSON answer of the document."""
    method, path = request_line.split(" ", 1)
    response = bff_session.request(method, bff_served.url + path, timeout=30, allow_redirects=False,
                                   headers={"Authorization": f"Bearer {shop.browser.token}", "Origin": ORIGIN})
    evidence = f"{request_line} -> {response.status_code} {response.headers.get('Location')} {response.text[:300]}"
    assert response.status_code < 300 or 400 <= response.status_code < 500, evidence
    assert response.headers.get("Content-Type", "").startswith("application/json"), evidence
    if "%2F" in path:
        assert response.status_code == 404, evidence
