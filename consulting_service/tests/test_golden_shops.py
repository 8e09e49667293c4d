"""Golden shops: the advice for a store whose history tells a known story names each part of the story, and
every number it quotes is recomputed here from the seeded orders, prices and costs, not from the figures."""
import collections
import datetime

import pytest

from consulting_service.app import figures, jobs
from consulting_service.app.models import ConsultingJob
from testsupport.served import local_service_urls
from testsupport.shop import Http, Shop

from .golden_shops import KOREAN_MENU, korean_diner

CLASS_NAMES = {"Star": "스타(Star)", "Plowhorse": "플로호스(Plowhorse)", "Puzzle": "퍼즐(Puzzle)", "Dog": "도그(Dog)"}


@pytest.fixture
def diner(new_store, database_url, store_service, item_service, order_service, sale_service):
    store_id, headers = new_store()
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service)
    return korean_diner(Shop(Http(urls), store_id=store_id, headers=headers, database_url=database_url))


def advice_for(sessions, work_one_job, story):
    with sessions() as session:
        job = jobs.create_job(session=session, store_id=story.shop.store_id, start=story.start, end=story.end)
        session.commit()
        req_id = job.req_id
    work_one_job(model=None)
    with sessions() as session:
        job = session.get(ConsultingJob, req_id)
    assert (job.status, job.source) == ("success", "rule_based"), job.failure_reason
    print(f"\n{job.consulting}")
    return job.consulting


def price(name):
    return KOREAN_MENU[name][0]


def order_total(order):
    return sum(price(name) * quantity for name, quantity in order.items.items())


def pct(now, before):
    return f"{(now - before) * 100 / before:+.1f}%"


def section(text, title):
    lines = text.splitlines()
    first = lines.index(f"■ {title}") + 1
    rest = [n for n in range(first, len(lines)) if lines[n].startswith("■ ")]
    return lines[first:rest[0] if rest else len(lines)]


def line_naming(lines, name):
    [line] = [line for line in lines if line.startswith(f"- {name}:")]
    return line


def test_the_advice_tells_the_korean_diners_story(sessions, work_one_job, diner):
    text = advice_for(sessions, work_one_job, diner)

    week = [o for o in diner.orders if diner.start <= o.paid_at.date() <= diner.end]
    before = [o for o in diner.orders if o.paid_at.date() < diner.start]
    revenue, revenue_before = sum(map(order_total, week)), sum(map(order_total, before))

    # 요약: the week's revenue, down 20% against the week before, and the payments.
    summary = section(text, "요약")
    [revenue_line] = [line for line in summary if line.startswith("- 매출 ")]
    assert f"{revenue:,}원" in revenue_line and f"{revenue_before:,}원" in revenue_line
    assert pct(revenue, revenue_before) == "-20.0%" and "-20.0%" in revenue_line
    assert f"결제 {len(week):,}건 ({pct(len(week), len(before))})" in "\n".join(summary)
    cash = sum(order_total(o) for o in week if o.payment_method == "cash")
    assert f"현금 {cash:,}원" in "\n".join(summary)

    # 메뉴 분석: one line per item with its class and numbers, the uncosted item apart, the unsold one named.
    quantities = collections.Counter()
    for order in week:
        quantities.update(order.items)
    sold = sum(quantities.values())
    costed = {name: q for name, q in quantities.items() if name in diner.costs}
    average_margin = round(sum(q * (price(n) - diner.costs[n]) for n, q in costed.items()) / sum(costed.values()))
    classes = {}
    menu = section(text, "메뉴 분석")
    for name, quantity in quantities.items():
        line = line_naming(menu, name)
        share = quantity / sold
        assert f"{quantity:,}개 판매(비중 {share * 100:.1f}%), 매출 {quantity * price(name):,}원" in line
        if name not in diner.costs:
            assert "원가 미등록" in line and "(Star)" not in line
            continue
        margin = price(name) - diner.costs[name]
        popular, profitable = share >= 0.7 / len(quantities), margin >= average_margin
        classes[name] = {(True, True): "Star", (True, False): "Plowhorse", (False, True): "Puzzle",
                         (False, False): "Dog"}[popular, profitable]
        assert CLASS_NAMES[classes[name]] in line
        assert f"1개당 마진 {margin:,}원, 공헌이익 {quantity * margin:,}원" in line
    assert classes == {"제육볶음": "Star", "김치찌개": "Plowhorse", "수육": "Puzzle", "계란찜": "Dog"}  # the story
    assert f"1개당 마진 {average_margin:,}원 이상" in menu[0]
    assert "- 판매되지 않은 메뉴: 해물파전" in menu

    # 할 일: one action per class, naming its item.
    todo = section(text, "할 일")
    for name, menu_class in classes.items():
        assert any(line.startswith(f"- {CLASS_NAMES[menu_class]} {name}:") for line in todo), (name, todo)
    assert any("원가 미등록 막걸리" in line for line in todo)
    assert any("해물파전" in line for line in todo)

    # 시간대: the dead afternoon, and the three best hours by revenue.
    hours = section(text, "시간대")
    by_hour = collections.defaultdict(lambda: [0, 0])
    for order in week:
        by_hour[order.paid_at.hour][0] += order_total(order)
        by_hour[order.paid_at.hour][1] += 1
    [empty] = [line for line in hours if line.startswith("- 손님이 거의 없는 시간")]
    assert empty.endswith("14시(주문 0건), 15시(주문 0건), 16시(주문 0건)")
    peak = sorted(sorted(by_hour, key=lambda h: (-by_hour[h][0], -by_hour[h][1], h))[:3])
    assert hours[0] == "- 가장 바쁜 시간: " + ", ".join(
        f"{h}시(매출 {by_hour[h][0]:,}원, 주문 {by_hour[h][1]:,}건)" for h in peak)

    # Next week: three actions, the fall of the revenue first, then the Plowhorse's margin.
    next_week = section(text, "다음 주에 할 세 가지")
    assert [line[:3] for line in next_week] == ["1. ", "2. ", "3. "]
    assert "-20.0%" in next_week[0]
    assert "김치찌개" in next_week[1] and f"{average_margin:,}원" in next_week[1]


def test_a_period_before_any_sale_compares_with_nothing(sessions, work_one_job, diner):
    story = diner
    story.end = story.start - datetime.timedelta(days=1)
    story.start = story.end - datetime.timedelta(days=6)  # the week before: before it, nothing was sold

    text = advice_for(sessions, work_one_job, story)

    [revenue_line] = [line for line in section(text, "요약") if line.startswith("- 매출 ")]
    assert revenue_line.endswith("0원 대비 직전 기록 없음")
    assert "-20.0%" not in text


def test_a_store_that_sold_more_items_than_one_request_line_holds_gets_the_same_advice(sessions, work_one_job, diner,
                                                                                       monkeypatch):
    whole = advice_for(sessions, work_one_job, diner)
    monkeypatch.setattr(figures, "IDS_PER_CALL", 2)  # the diner sold five items: three calls for the menu
    assert advice_for(sessions, work_one_job, diner) == whole
