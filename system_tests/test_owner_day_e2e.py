"""The store owner's day (API.md §12.3) through the BFF only, with every service a real process.

Real: PostgreSQL, the Kafka-protocol broker, the seven services under gunicorn, the
consulting worker and the dashboard consumer. Doubles only at the edges: a local server
speaking the OpenAI chat-completions API, and moto's SNS server for the settlement SMS.
"""
import datetime
import os
import subprocess
import sys
import time
import uuid
import zoneinfo

import pytest
import requests
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from moto.sns.models import sns_backends

from consulting_service.tests.fake_openai import FakeOpenAI
from salesync_common import roster
from salesync_common.migrate import REPO_ROOT
from testsupport.bff_contract import check_answer
from testsupport.served import ServiceProcess
from testsupport.settings import TEST_JWT_SECRET, migrated_settings
from testsupport.shop import Http, Shop

TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()


@pytest.fixture(scope="module")
def sns():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def liveness_files(tmp_path_factory):
    """Where the consulting worker and the dashboard consumer touch their liveness files."""
    folder = tmp_path_factory.mktemp("liveness")
    return {module: folder / f"{module}.alive"
            for module in ("consulting_service.worker", "dashboard_service.consumer")}


@pytest.fixture(scope="module")
def system(database_url, kafka_broker, sns, liveness_files):
    """Every service as its own process, wired as in production; yields the BFF's URL."""
    for service in roster.SERVICES:
        if service.schema:
            migrated_settings(service.name, database_url)
    openai = FakeOpenAI()
    openai.answer = "티라미수를 커피와 묶은 세트로 홍보하세요."
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
           "OPENAI_API_KEY": "sk-test-local-fake", "OPENAI_BASE_URL": openai.base_url,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "ap-northeast-1", "AWS_ENDPOINT_URL_SNS": sns}
    started, workers = {}, []
    try:
        for service in roster.BY_NAME:
            started[service] = ServiceProcess(service, database_url, env=env)
            env[f"{service.upper()}_SERVICE_URL"] = started[service].url
        worker_env = {**os.environ, **env, "DATABASE_URL": database_url, "SALESYNC_JWT_SECRET": TEST_JWT_SECRET,
                      "SALESYNC_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO_ROOT)}
        for module, alive in liveness_files.items():
            workers.append(subprocess.Popen([sys.executable, "-m", module], cwd=REPO_ROOT,
                                            env={**worker_env, "SALESYNC_LIVENESS_FILE": str(alive)},
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield {name: process.url for name, process in started.items()}
    finally:
        for process in workers:
            process.terminate()
            process.wait(timeout=15)
        for service in reversed(list(started)):
            started[service].stop()
        openai.released.set()


def cors_on_every_answer(response):
    """Every answer carries CORS headers, and a success reply has exactly its documented fields."""
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    if response.headers.get("Content-Type", "").startswith("application/json"):
        check_answer(response.request.method, response.request.path_url, response.status_code, response.json())


def signed_up(bff, username, store_name):
    """A store signed up and logged in through the BFF's one base URL, as the React POS does it."""
    owner = Shop(Http(bff, headers={"X-CSRF-Token": "csrf"}, timeout=15, check=cors_on_every_answer,
                      allow_redirects=False))
    assert owner.call("GET", f"/stores/check?username={username}", auth=False)["result"] == "success"
    owner.sign_up(username=username, store_name=store_name, owner_name="박사장", phone="01098765432",
                  address="서울시 종로구")
    assert owner.token
    owner.log_in()
    return owner


def wait_until(read, done, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_the_owners_day_and_a_second_store_that_sees_none_of_it(system, sns):
    owner = signed_up(system["bff"], "owner" + uuid.uuid4().hex[:8], "종로카페")

    # The menu.
    coffee = owner.call("POST", "/categories/", {"name": "커피"}, expect=201)["id"]
    dessert = owner.call("POST", "/categories/", {"name": "디저트"}, expect=201)["id"]
    owner.call("POST", "/categories/", {"name": "커피"}, expect=409)
    menu = {}
    for category, name, price in [(coffee, "아메리카노", "4000"), (coffee, "라떼", "4500"),
                                  (dessert, "티라미수", "7000"), (dessert, "쿠키", "2000")]:
        menu[name] = owner.call("POST", f"/categories/{category}/items", {"name": name, "price": price},
                                expect=201)["id"]
    tree = owner.call("GET", "/categories/items")["categories"]
    assert [(i["name"], i["price"]) for c in tree for i in c["items"]] == [
        ("아메리카노", 4000), ("라떼", 4500), ("티라미수", 7000), ("쿠키", 2000)]

    def cart(**quantities):
        return [{"item_id": menu[name], "quantity": n} for name, n in quantities.items()]

    # Orders at tables and at the kiosk; one changed, one cancelled.
    assert owner.call("GET", "/orders/unpaids/1")["carts"] == []
    owner.call("POST", "/orders/", {"table_no": 1, "carts": cart(아메리카노=2)})
    owner.call("PUT", "/orders/", {"table_no": 1, "carts": cart(아메리카노=2, 티라미수=1)})
    owner.call("POST", "/orders/", {"table_no": 0, "carts": cart(라떼=1, 쿠키=2)})
    owner.call("POST", "/orders/", {"table_no": 5, "carts": cart(쿠키=1)})
    owner.call("DELETE", "/orders/5")
    unpaid = owner.call("GET", "/orders/unpaids")["orders"]
    assert {o["table_no"]: o["total_price"] for o in unpaid} == {0: 8500, 1: 15000}

    # Payment by card and by cash; a retry with the same key charges once.
    card = owner.call("POST", "/sales/", {"table_no": 1, "payment_type": "카드", "total_price": 15000}, expect=201,
                      **{"Idempotency-Key": "t1"})
    owner.call("POST", "/sales/", {"table_no": 1, "payment_type": "카드", "total_price": 15000}, expect=201,
               **{"Idempotency-Key": "t1"})
    owner.call("POST", "/sales/", {"table_no": 0, "payment_type": "현금", "total_price": 8500}, expect=201)
    assert owner.call("GET", "/orders/unpaids")["orders"] == []
    assert len(owner.call("GET", "/sales/")["sales"]) == 2

    # The pie chart and the per-day volumes.
    pie = owner.call("GET", f"/bff/sales?start={TODAY}&end={TODAY}")
    assert pie["sales_volume"] == 23500
    assert {i["name"]: (i["sales_volume"], i["profit"]) for i in pie["items"]} == {
        "아메리카노": (8000, 8000), "티라미수": (7000, 7000), "라떼": (4500, 4500), "쿠키": (4000, 4000)}
    week = owner.call("GET", f"/bff/volumes?start={TODAY - datetime.timedelta(days=3)}&end={TODAY}")["total"]
    assert [d["sales_volume"] for d in week] == [0, 0, 0, 23500]

    # Costs change profit.
    costs = owner.call("GET", "/bff/costs")
    for category in costs["items"]:
        for item in category["items"]:
            item["cost"] = {"아메리카노": 1000, "티라미수": 3000}.get(item["name"])  # the others stay null
    owner.call("POST", "/bff/costs", costs)
    pie = owner.call("GET", f"/bff/sales?start={TODAY}&end={TODAY}")
    assert {i["name"]: i["profit"] for i in pie["items"]}["아메리카노"] == 8000 - 2 * 1000
    assert {i["name"]: i["profit"] for i in pie["items"]}["티라미수"] == 7000 - 3000

    # Consulting: a req_id at once, then the advice once the result has come through Kafka.
    started = time.monotonic()
    req_id = owner.call("GET", f"/consulting/test?start={TODAY}&end={TODAY}")["req_id"]
    assert time.monotonic() - started < 1.0 and len(req_id) == 36
    state = wait_until(lambda: owner.call("GET", f"/consulting/test/{req_id}"),
                       lambda s: s["result"] != "not completed")
    assert state["result"] == "success", state
    advice = owner.call("GET", f"/dashboard/consulting/test/{req_id}")
    assert advice["consulting"] == "티라미수를 커피와 묶은 세트로 홍보하세요."

    # Settlement: the SMS reaches (moto's) SNS with the owner's number in E.164.
    settled = owner.call("GET", f"/dashboard/calculate?date={TODAY}")
    assert settled["sent"] is True
    messages = sns_backends[DEFAULT_ACCOUNT_ID]["ap-northeast-1"].sms_messages.values()
    assert any(number == "+821098765432" and "23,500원" in text for number, text in messages)

    # A second store sees none of it, through any path that takes an id.
    other = signed_up(system["bff"], "other" + uuid.uuid4().hex[:8], "다른가게")
    assert other.call("GET", "/categories/")["categories"] == []
    assert other.call("GET", "/categories/items")["categories"] == []
    assert other.call("GET", "/orders/unpaids")["orders"] == []
    assert other.call("GET", "/sales/")["sales"] == []
    assert other.call("GET", "/bff/costs")["items"] == []
    assert other.call("GET", f"/bff/sales?start={TODAY}&end={TODAY}")["items"] == []
    other.call("PUT", f"/categories/{coffee}", {"name": "탈취"}, expect=404)
    other.call("DELETE", f"/categories/{dessert}", expect=404)
    other.call("PUT", f"/categories/items/{menu['라떼']}", {"name": "탈취", "price": 1}, expect=404)
    other.call("DELETE", f"/categories/items/{menu['쿠키']}", expect=404)
    other.call("POST", f"/categories/{coffee}/items", {"name": "침입", "price": 1}, expect=404)
    other.call("DELETE", f"/sales/{card['id']}", expect=404)
    other.call("GET", f"/consulting/test/{req_id}", expect=404)
    other.call("GET", f"/dashboard/consulting/test/{req_id}", expect=404)
    other.call("POST", "/bff/costs", {"items": [{"category_id": coffee, "category_name": "커피",
                                                  "items": [{"item_id": menu["라떼"], "cost": 1}]}]}, expect=404)
    # ... and the owner's data is as it was.
    assert [c["name"] for c in owner.call("GET", "/categories/")["categories"]] == ["커피", "디저트"]
    assert len(owner.call("GET", "/sales/")["sales"]) == 2


def test_every_service_exposes_its_metrics(system):
    """Runs after the owner's day: the series Prometheus and the Grafana dashboard read are there."""
    scraped = {name: requests.get(url + "/metrics", timeout=10).text for name, url in system.items()}
    for name, body in scraped.items():
        assert "http_request_duration_seconds_bucket" in body, name
        assert "http_requests_in_flight" in body, name
    for name in ("store", "item", "order", "sale", "dashboard", "consulting"):
        assert 'db_pool_connections{state="checked_out"}' in scraped[name], name
    assert 'route="/orders/",service="bff",status="200"' in scraped["bff"]
    assert 'salesync_payments_total{method="card"} 1.0' in scraped["sale"]
    assert 'salesync_outbox{figure="pending"} 0.0' in scraped["consulting"]
    assert 'salesync_consulting_jobs{status="success"}' in scraped["consulting"]
    assert 'salesync_consumer_position{partition="0",topic="consulting"}' in scraped["dashboard"]


def test_the_worker_processes_pass_their_liveness_probe(system, liveness_files):
    """The probe Kubernetes and compose run against the processes that serve no HTTP."""
    for module, alive in liveness_files.items():
        probe = [sys.executable, "-m", "salesync_common.liveness", str(alive), "10"]
        passed = wait_until(lambda probe=probe: subprocess.run(probe, cwd=REPO_ROOT, capture_output=True, timeout=30,
                                                               check=False).returncode,
                            lambda code: code == 0)
        assert passed == 0, module
