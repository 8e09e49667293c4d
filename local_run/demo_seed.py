"""A demo store for `make run`: a cafe menu with costs and two weeks of paid orders that tell a story the
consulting advice tells back.

The store, its menu and its costs go through the BFF, as the POS does (with testsupport.shop, the scenario
driver the tests use: the services themselves answer only to Salesync services); the two weeks of paid
orders are then written at their own instants straight into the order and sale schemas (Shop.sell_at), since
an API cannot take a payment in the past. The password is generated on this machine and kept in .salesync/.

The story, over the last 7 days: 아메리카노 and 카페라떼 sell most at a good margin (Star), 딸기스무디 sells
well at a thin one (Plowhorse), 티라미수 sells once a day at the best margin (Puzzle), 마카롱 once a day at
almost none (Dog); 크루아상 has no cost and 유자차 never sells; nothing sells from 14 h to 16 h; and the week
before sold three more orders a day, so this week is down about a sixth.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import secrets
import zoneinfo

import requests

from testsupport.shop import Http, PastOrder, Shop

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
DEMO_USERNAME = "democafe01"
# category: [(item, price, cost or None)]
MENU = {
    "커피": [("아메리카노", 4500, 900), ("카페라떼", 5000, 1300)],
    "음료": [("딸기스무디", 6500, 4800), ("유자차", 5000, 1300)],
    "디저트": [("티라미수", 6800, 2900), ("마카롱", 2500, 1900), ("크루아상", 3800, None)],
}
DAYS = 14
WEEK = 7
SATURDAY = 6  # ISO weekday
# One day of the last week: (hour, minute, items, payment method).
DAY = [
    (8, 40, {"아메리카노": 2}, "card"),
    (9, 10, {"카페라떼": 1, "크루아상": 1}, "card"),
    (9, 50, {"아메리카노": 1, "카페라떼": 1}, "card"),
    (10, 30, {"딸기스무디": 1, "아메리카노": 1}, "card"),
    (11, 20, {"아메리카노": 2, "티라미수": 1}, "card"),
    (12, 10, {"카페라떼": 2, "딸기스무디": 1}, "card"),
    (12, 40, {"아메리카노": 1, "딸기스무디": 1}, "cash"),
    (13, 15, {"아메리카노": 2, "카페라떼": 1}, "card"),
    (13, 45, {"딸기스무디": 2, "크루아상": 1}, "card"),
    (17, 20, {"아메리카노": 1, "마카롱": 1}, "cash"),
    (18, 0, {"카페라떼": 1, "딸기스무디": 1}, "card"),
    (19, 30, {"아메리카노": 1, "카페라떼": 1}, "card"),
]
WEEKEND_EXTRA = [(11, 0, {"아메리카노": 2, "카페라떼": 2}, "card")]
WEEK_BEFORE_EXTRA = [(10, 0, {"아메리카노": 2}, "card"), (12, 20, {"카페라떼": 1, "딸기스무디": 1}, "card"),
                     (18, 30, {"아메리카노": 1, "카페라떼": 1}, "cash")]


def _password() -> str:
    # Meets the sign-up rules: 10-16 characters with lower, upper, digit and a symbol.
    return "Demo" + secrets.token_hex(4) + "!7a"


def history(today: datetime.date) -> list[PastOrder]:
    """The paid orders of the DAYS business days before today."""
    orders = []
    for days_ago in range(DAYS, 0, -1):
        day = today - datetime.timedelta(days=days_ago)
        plan = (DAY + (WEEKEND_EXTRA if day.isoweekday() >= SATURDAY else [])
                + (WEEK_BEFORE_EXTRA if days_ago > WEEK else []))
        orders += [PastOrder(paid_at=datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SEOUL),
                             items=items, payment_method=method, table_no=n % 8 + 1)
                   for n, (hour, minute, items, method) in enumerate(plan)]
    return orders


def seed_demo_store(*, urls: dict[str, str], database_url: str, state: pathlib.Path) -> dict | None:
    """Create the demo store unless it exists; returns its credentials when created now."""
    credentials_path = state / "demo-credentials.json"
    answer = requests.get(urls["bff"] + "/stores/check", params={"username": DEMO_USERNAME}, timeout=10)
    answer.raise_for_status()  # an error is no verdict on the name
    taken = answer.json()
    if taken["result"] == "failed":
        return json.loads(credentials_path.read_text()) if credentials_path.exists() else None

    password = _password()
    shop = Shop(Http(urls["bff"]), database_url=database_url).sign_up(
        username=DEMO_USERNAME, password=password, owner_name="김데모", store_name="살싱크 카페",
        address="서울시 성동구 성수이로 1", store_type="휴게음식점")
    shop.build_menu({category: {name: price for name, price, _ in dishes} for category, dishes in MENU.items()})
    today = datetime.datetime.now(SEOUL).date()
    shop.set_costs(effective_date=today - datetime.timedelta(days=DAYS + 1),
                   **{name: cost for dishes in MENU.values() for name, _, cost in dishes if cost is not None})
    shop.sell_at(history(today))

    credentials = {"username": DEMO_USERNAME, "password": password}
    credentials_path.write_text(json.dumps(credentials))
    credentials_path.chmod(0o600)
    return credentials
