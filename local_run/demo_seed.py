"""A demo store for `make run`: a cafe menu with costs and two weeks of paid orders.

Everything goes through the services' own APIs; only the payment times are then moved
back to earlier days in the order and sale schemas, since an API cannot take a payment
in the past. The password is generated on this machine and kept in .salesync/.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import random
import secrets

import psycopg2
import requests

from .postgres import libpq_url

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
    taken = requests.get(urls["store"] + "/stores/check", params={"username": DEMO_USERNAME}, timeout=10).json()
    if taken["result"] == "failed":
        return json.loads(credentials_path.read_text()) if credentials_path.exists() else None

    password = _password()
    signed_up = requests.post(urls["store"] + "/stores/", timeout=10, json={
        "username": DEMO_USERNAME, "password": password, "owner_name": "김데모", "phone": "01012345678",
        "store_name": "살싱크 카페", "address": "서울시 성동구 성수이로 1", "store_type": "휴게음식점"})
    signed_up.raise_for_status()
    headers = {"Authorization": f"Bearer {signed_up.json()['token']['access_token']}"}

    def call(method, service, path, body=None):
        response = requests.request(method, urls[service] + path, json=body, headers=headers, timeout=10)
        response.raise_for_status()
        return response.json()

    items = []
    cost_start = (datetime.date.today() - datetime.timedelta(days=DAYS + 1)).isoformat()
    for category, dishes in MENU.items():
        category_id = call("POST", "item", "/categories/", {"name": category})["id"]
        for name, price, cost in dishes:
            item_id = call("POST", "item", f"/categories/{category_id}/items", {"name": name, "price": price})["id"]
            items.append((item_id, cost))
    call("POST", "item", "/categories/items/costs",
         {"effective_date": cost_start, "items": [{"item_id": item_id, "cost": cost} for item_id, cost in items]})

    rng = random.Random(7)
    moved: list[tuple[int, int, int]] = []  # (order_id, sale_id, days_ago)
    for days_ago in range(DAYS, 0, -1):
        for _ in range(rng.randint(12, 25)):
            table_no = rng.randint(0, 8)
            carts = [{"item_id": item_id, "quantity": rng.randint(1, 3)}
                     for item_id, _ in rng.sample(items, rng.randint(1, 4))]
            placed = call("POST", "order", "/orders/", {"table_no": table_no, "carts": carts})
            paid = call("POST", "sale", "/sales/", {"table_no": table_no, "total_price": placed["total_price"],
                                                    "payment_type": rng.choice(["현금", "카드"])})
            moved.append((placed["order_id"], paid["id"], days_ago))
    _move_back(database_url, moved, rng)

    credentials = {"username": DEMO_USERNAME, "password": password}
    credentials_path.write_text(json.dumps(credentials))
    credentials_path.chmod(0o600)
    return credentials


def _move_back(database_url: str, moved: list[tuple[int, int, int]], rng: random.Random) -> None:
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        for order_id, sale_id, days_ago in moved:
            shift = datetime.timedelta(days=days_ago, minutes=rng.randint(0, 600))
            cursor.execute('UPDATE "order".orders SET created_at = created_at - %s, updated_at = updated_at - %s, '
                           'paid_at = paid_at - %s WHERE order_id = %s', (shift, shift, shift, order_id))
            cursor.execute("UPDATE sale.sales SET created_at = created_at - %s, completed_at = completed_at - %s "
                           "WHERE sale_id = %s", (shift, shift, sale_id))
