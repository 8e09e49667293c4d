"""The dashboard through the BFF (API.md §6, §8.1): the pie and line charts, the settlement, consulting texts."""
import datetime
import uuid
import zoneinfo

import pytest

from .conftest import Pos

TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()


@pytest.fixture
def shop(dashboard_app):
    """A store that sold 2 potato pizzas (cost 5000 each) and 3 colas (no cost) today."""
    terminal = Pos(dashboard_app.test_client())
    terminal.ids = terminal.menu({"피자": {"포테이토 피자": 21000}, "음료": {"콜라": 2000}})
    terminal.set_costs(**{"포테이토 피자": 5000})
    terminal.order(1, **{"포테이토 피자": 2, "콜라": 3})
    terminal.pay(1, 48000)
    return terminal


def test_the_pie_chart_reads_each_items_sales_and_profit(shop):
    report = shop.call("GET", f"/bff/sales?start={TODAY}&end={TODAY}")
    assert report["sales_volume"] == 48000
    assert [(item["name"], item["sales_volume"], item["profit"]) for item in report["items"]] == [
        ("포테이토 피자", 42000, 32000), ("콜라", 6000, 6000)]


def test_the_line_chart_has_one_point_per_day(shop):
    start = TODAY - datetime.timedelta(days=3)
    report = shop.call("GET", f"/bff/volumes?start={start}&end={TODAY}")
    assert [point["date"] for point in report["total"]] == [
        (start + datetime.timedelta(days=n)).isoformat() for n in range(4)]
    assert (report["total"][-1]["sales_volume"], report["total"][-1]["profit"]) == (48000, 38000)
    assert report["total"][0]["sales_volume"] == 0


def test_a_report_without_dates_is_a_400(shop):
    assert shop.request("GET", "/bff/sales").status_code == 400


def test_the_settlement_button_answers_json(shop):
    answer = shop.call("GET", f"/dashboard/calculate?date={TODAY}")
    assert answer["result"] == "success" and answer["message"]


def test_an_unknown_consulting_is_a_404(shop):
    for path in ("/dashboard/consulting/", "/dashboard/consulting/test/"):
        assert shop.request("GET", f"{path}{uuid.uuid4()}").status_code == 404
