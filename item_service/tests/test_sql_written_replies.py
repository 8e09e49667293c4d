"""The menu and the cost pages are written as JSON by PostgreSQL (menu.py, costs.py), not by Python: the bodies
must still be the JSON a Python view would write, keep the contract the BFF checks (contracts.items.CostList),
and escape whatever a name may hold. The cost history the dashboard reads (contracts.items.CostHistoryReport)
is written the same way."""
import datetime
import json

from salesync_common.contracts.items import CostHistoryReport, CostList

from .conftest import add_category, add_item, seoul_today

# Characters a name may hold that JSON must escape or carry as they are.
AWKWARD_NAMES = ['"큰따옴표" 세트', "역\\슬래시", "이모지 🍕 피자", "</script>&'<", "탭 아닌 공백 ㄱ"]


def costs(client, headers, items: list[dict], effective_date: str | None = None) -> None:
    body = {"items": items, **({"effective_date": effective_date} if effective_date else {})}
    response = client.post("/categories/items/costs", json=body, headers=headers)
    assert response.status_code in (200, 201), response.get_json()


def test_awkward_names_empty_categories_and_cost_dates_come_out_as_the_shop_entered_them(client, headers):
    today = seoul_today()
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    last_week = (today - datetime.timedelta(days=7)).isoformat()
    odd = add_category(client, headers, AWKWARD_NAMES[0])
    empty = add_category(client, headers, "빈 분류")
    hidden = add_category(client, headers, "숨긴 분류")
    names = {add_item(client, headers, odd, name, price): (name, price)
             for name, price in zip(AWKWARD_NAMES, [1000, 2000, 3000, 4000, 5000], strict=True)}
    first, second, third, *_ = names
    add_item(client, headers, hidden, "숨긴 메뉴", 900)
    assert client.delete(f"/categories/{hidden}", headers=headers).status_code == 200
    # first: a cost from last week; second: one from last week and a higher one from tomorrow (not yet in
    # force); third: only tomorrow's (none in force today); the rest: none.
    costs(client, headers, [{"item_id": first, "cost": 400}, {"item_id": second, "cost": 800}], last_week)
    costs(client, headers, [{"item_id": second, "cost": 1900}, {"item_id": third, "cost": 1200}], tomorrow)
    in_force = {first: 400, second: 800}

    menu = client.get("/categories/items", headers=headers)
    assert menu.status_code == 200 and menu.mimetype == "application/json"
    assert json.loads(menu.get_data(as_text=True)) == {"categories": [
        {"category_id": odd, "category_name": AWKWARD_NAMES[0],
         "items": [{"item_id": item_id, "name": name, "price": price, "cost": in_force.get(item_id)}
                   for item_id, (name, price) in sorted(names.items())]},
        {"category_id": empty, "category_name": "빈 분류", "items": []},
    ]}

    page = client.get("/categories/items/costs", headers=headers)
    assert page.status_code == 200 and page.mimetype == "application/json"
    checked = CostList.model_validate_json(page.get_data())
    assert [item.model_dump() for item in checked.items] == [
        {"item_id": item_id, "name": name, "category_id": odd, "price": price, "cost": in_force.get(item_id),
         "category_name": AWKWARD_NAMES[0]}
        for item_id, (name, price) in sorted(names.items())]
    assert checked.result == "success"

    # The BFF's cost page: the same items nested by category, categories without items left out.
    nested = client.get("/categories/items/costs/by-category", headers=headers)
    assert nested.status_code == 200 and nested.mimetype == "application/json"
    assert json.loads(nested.get_data(as_text=True)) == {"result": "success", "message": "원가 조회 성공", "items": [
        {"category_id": odd, "category_name": AWKWARD_NAMES[0],
         "items": [{"item_id": item_id, "name": name, "price": price, "cost": in_force.get(item_id)}
                   for item_id, (name, price) in sorted(names.items())]}]}


def test_a_store_with_no_menu_gets_empty_lists_not_nulls(client, headers):
    assert client.get("/categories/items", headers=headers).get_json() == {"categories": []}
    page = client.get("/categories/items/costs", headers=headers)
    assert CostList.model_validate_json(page.get_data()).items == []
    assert page.get_json()["items"] == []
    assert client.get("/categories/items/costs/by-category", headers=headers).get_json()["items"] == []


def test_the_cost_history_keeps_its_contract_for_awkward_names_and_dates_in_order(client, headers):
    today = seoul_today()
    day = [(today - datetime.timedelta(days=n)).isoformat() for n in range(10)]
    pizza = add_category(client, headers, "피자")
    odd, plain, never = (add_item(client, headers, pizza, name, 1000) for name in AWKWARD_NAMES[:3])
    # odd: in force before the period, changed twice inside it (entered out of order), once after it;
    # plain: its only cost set inside the period; never: no cost at all.
    costs(client, headers, [{"item_id": odd, "cost": 100}], day[9])
    costs(client, headers, [{"item_id": odd, "cost": 300}], day[3])
    costs(client, headers, [{"item_id": odd, "cost": 200}], day[5])
    costs(client, headers, [{"item_id": odd, "cost": 999}], day[0])
    costs(client, headers, [{"item_id": plain, "cost": 50}], day[4])

    reply = client.get("/internal/items/costs", headers=headers,
                       query_string={"start": day[7], "end": day[1], "ids": f"{never},{plain},{odd}"})

    assert reply.status_code == 200 and reply.mimetype == "application/json"
    checked = CostHistoryReport.model_validate_json(reply.get_data())
    assert checked.model_dump(mode="json") == {"items": [
        {"item_id": odd, "name": AWKWARD_NAMES[0], "costs": [
            {"effective_date": day[9], "cost": 100}, {"effective_date": day[5], "cost": 200},
            {"effective_date": day[3], "cost": 300}]},
        {"item_id": plain, "name": AWKWARD_NAMES[1], "costs": [{"effective_date": day[4], "cost": 50}]},
        {"item_id": never, "name": AWKWARD_NAMES[2], "costs": []},
    ]}
