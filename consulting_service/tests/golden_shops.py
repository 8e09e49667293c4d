"""Golden shops: stores whose history tells a known story, for the advice to tell back.

The 한식당 (KOREAN_DINER) over the last 7 days:
- one item of each menu-engineering class: 제육볶음 sells most at a good margin (Star), 김치찌개 sells
  almost as much at a thin one (Plowhorse), 수육 sells once a day at the best margin (Puzzle), 계란찜 once a
  day at almost none (Dog);
- 막걸리 has no cost (원가 미등록) and 해물파전 is on the menu but never sold;
- a dead afternoon: lunch 11–13 h and dinner 17–20 h, nothing from 14 h to 16 h;
- the week before sold the same each day plus two more orders, so this week is 20% down.
"""
from __future__ import annotations

import dataclasses
import datetime
import zoneinfo

from testsupport.shop import PastOrder, Shop

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")

# name: (price, cost or None)
KOREAN_MENU = {"제육볶음": (11000, 4000), "김치찌개": (9000, 7000), "수육": (28000, 12000), "계란찜": (5000, 4000),
               "막걸리": (5000, None), "해물파전": (15000, 6000)}
# One day of the story week: (hour, minute, items, payment method). 284,000 won a day.
KOREAN_DAY = [
    (11, 30, {"제육볶음": 2, "김치찌개": 1}, "card"),
    (12, 10, {"제육볶음": 1, "김치찌개": 2, "막걸리": 1}, "cash"),
    (12, 40, {"제육볶음": 2, "김치찌개": 1}, "card"),
    (13, 20, {"김치찌개": 2, "제육볶음": 1, "계란찜": 1}, "card"),
    (17, 30, {"제육볶음": 1, "수육": 1, "막걸리": 1}, "card"),
    (18, 15, {"김치찌개": 2, "제육볶음": 2}, "card"),
    (19, 0, {"제육볶음": 1, "김치찌개": 1, "막걸리": 2}, "cash"),
    (20, 10, {"제육볶음": 2, "김치찌개": 2}, "card"),
]
# What the week before sold beside the same day: a quarter more (71,000 won a day), so this week is 20% down.
KOREAN_DAY_BEFORE_EXTRA = [
    (12, 50, {"제육볶음": 3, "김치찌개": 1}, "card"),
    (18, 40, {"제육볶음": 1, "김치찌개": 2}, "card"),
]


@dataclasses.dataclass
class Story:
    shop: Shop
    start: datetime.date
    end: datetime.date
    orders: list[PastOrder]  # every order written, both weeks
    costs: dict[str, int]


def today() -> datetime.date:
    return datetime.datetime.now(SEOUL).date()


def _orders(day: datetime.date, plan) -> list[PastOrder]:
    return [PastOrder(paid_at=datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SEOUL),
                      items=items, payment_method=method, table_no=n % 10 + 1)
            for n, (hour, minute, items, method) in enumerate(plan)]


def korean_diner(shop: Shop) -> Story:
    """The 한식당's menu, costs and two weeks of history on a signed-up shop; the story is the last 7 days."""
    shop.build_menu({"식사": {name: price for name, (price, _) in KOREAN_MENU.items()}})
    costs = {name: cost for name, (_, cost) in KOREAN_MENU.items() if cost is not None}
    shop.set_costs(effective_date=today() - datetime.timedelta(days=30), **costs)
    end = today() - datetime.timedelta(days=1)
    start = end - datetime.timedelta(days=6)
    orders = []
    for n in range(14):
        day = start - datetime.timedelta(days=7) + datetime.timedelta(days=n)
        orders += _orders(day, KOREAN_DAY + (KOREAN_DAY_BEFORE_EXTRA if day < start else []))
    shop.sell_at(orders)
    return Story(shop=shop, start=start, end=end, orders=orders, costs=costs)
