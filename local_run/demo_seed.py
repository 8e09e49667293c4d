"""A demo store for `make run`: a cafe menu with costs and two weeks of paid orders.

Everything goes through the BFF, as the POS does (with testsupport.shop, the scenario driver the
tests use: the services themselves answer only to Salesync services); only the payment times are
then moved back to earlier days in the order and sale schemas, since an API cannot take a payment
in the past. The password is generated on this machine and kept in .salesync/.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import random
import secrets

import requests

from testsupport.shop import Http, Shop, backdate

DEMO_USERNAME = "democafe01"
MENU = {
    "커피": [("아메리카노", 4500, 900), ("카페라떼", 5000, 1300), ("바닐라라떼", 5500, 1600), ("콜드브루", 5000, 1100)],
    "음료": [("레몬에이드", 5500, 1500), ("자몽티", 5000, 1400), ("밀크티", 5500, 1700)],
    "디저트": [("치즈케이크", 6500, 2600), ("티라미수", 6800, 2900), ("마카롱", 2500, 1200), ("크루아상", 3800, 1000)],
}
DAYS = 14


def _password() -> str:
    # Meets the sign-up rules: 10-16 characters with lower, upper, digit and a symbol.
    return "Demo" + secrets.token_hex(4) + "!7a"


def seed_demo_store(*, urls: dict[str, str], database_url: str, state: pathlib.Path) -> dict | None:
    """Create the demo store unless it exists; returns its credentials when created now."""
    credentials_path = state / "demo-credentials.json"
    answer = requests.get(urls["bff"] + "/stores/check", params={"username": DEMO_USERNAME}, timeout=10)
    answer.raise_for_status()  # an error is no verdict on the name
    taken = answer.json()
    if taken["result"] == "failed":
        return json.loads(credentials_path.read_text()) if credentials_path.exists() else None

    password = _password()
    shop = Shop(Http(urls["bff"])).sign_up(
        username=DEMO_USERNAME, password=password, owner_name="김데모", store_name="살싱크 카페",
        address="서울시 성동구 성수이로 1", store_type="휴게음식점")
    shop.build_menu({category: {name: price for name, price, _ in dishes} for category, dishes in MENU.items()})
    shop.set_costs(effective_date=datetime.date.today() - datetime.timedelta(days=DAYS + 1),
                   **{name: cost for dishes in MENU.values() for name, _, cost in dishes})

    rng = random.Random(7)
    names = list(shop.items)
    paid: list[tuple[int, int, datetime.timedelta]] = []  # (order_id, sale_id, how far back)
    for days_ago in range(DAYS, 0, -1):
        for _ in range(rng.randint(12, 25)):
            table_no = rng.randint(0, 8)
            quantities = {name: rng.randint(1, 3) for name in rng.sample(names, rng.randint(1, 4))}
            sale = shop.sell(table_no=table_no, payment_type=rng.choice(["현금", "카드"]), **quantities)
            paid.append((sale["order_id"], sale["id"], datetime.timedelta(days=days_ago)))
    now = datetime.datetime.now(datetime.UTC)
    backdate(database_url, [(order_id, sale_id, now - back - datetime.timedelta(minutes=rng.randint(0, 600)))
                            for order_id, sale_id, back in paid])

    credentials = {"username": DEMO_USERNAME, "password": password}
    credentials_path.write_text(json.dumps(credentials))
    credentials_path.chmod(0o600)
    return credentials
