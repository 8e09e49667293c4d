"""Promotion advice from a period's figures.

With OPENAI_API_KEY set, an OpenAI chat model writes it (the `openai` client retries 408,
409, 429 and 5xx with exponential backoff and jitter); a final failure is an AdviceFailed
with a reason the store owner can read. Without a key, a built-in rule-based analyst writes
it from the same figures and says so. Only item names and amounts are sent to the model.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from http import HTTPStatus

import openai

from salesync_common.metrics import MODEL_CALLS
from salesync_common.settings import ConfigError

from .models import OPENAI, RULE_BASED

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 2
# Enough for a menu; a longer one is summed up so the prompt stays small.
MAX_ITEMS_FOR_MODEL = 40
LOW_MARGIN_PCT = 30.0
# Promotions the rule-based analyst proposes: at least two, and three when no item loses money.
MIN_PROMOTIONS, MAX_PROMOTIONS = 2, 3
RULE_BASED_NOTE = ("※ 이 조언은 AI가 아닌 규칙 기반 분석으로 작성되었습니다. "
                   "OPENAI_API_KEY를 설정하면 AI 컨설팅을 받을 수 있습니다.")


class AdviceFailed(Exception):
    """The model gave no usable advice; reason says why, for the store owner."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Advice:
    source: str
    text: str


@dataclasses.dataclass(frozen=True)
class ModelSettings:
    api_key: str
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_retries: int = DEFAULT_MAX_RETRIES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ModelSettings | None:
        """None without OPENAI_API_KEY: the rule-based analyst answers then."""
        env = os.environ if env is None else env
        api_key = env.get("OPENAI_API_KEY", "").strip()
        if not api_key:
            return None
        return cls(
            api_key=api_key,
            base_url=env.get("OPENAI_BASE_URL", "").strip() or None,
            model=env.get("OPENAI_MODEL", "").strip() or DEFAULT_MODEL,
            timeout=_number(env, "OPENAI_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS, float, minimum=0.1),
            max_retries=_number(env, "OPENAI_MAX_RETRIES", DEFAULT_MAX_RETRIES, int, minimum=0),
        )


def _number(env, name, default, kind, *, minimum):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def new_model_client(model: ModelSettings) -> openai.OpenAI:
    return openai.OpenAI(api_key=model.api_key, base_url=model.base_url, timeout=model.timeout,
                         max_retries=model.max_retries)


def advise(*, figures: dict, model: ModelSettings | None, client: openai.OpenAI | None = None) -> Advice:
    if not figures["items"]:
        return Advice(RULE_BASED, empty_period_advice(figures, ai_enabled=model is not None))
    if model is None:
        return Advice(RULE_BASED, rule_based_advice(figures))
    return Advice(OPENAI, ask_model(figures=figures, model=model, client=client))


# --- the model ---------------------------------------------------------------------------------

SYSTEM_PROMPT = "당신은 음식점의 매출 정보를 보고 프로모션 전략을 세우는 경영 컨설턴트입니다."


def prompt_messages(figures: dict) -> list[dict]:
    items = figures["items"]
    shown = sorted(items, key=lambda item: -item["revenue"])[:MAX_ITEMS_FOR_MODEL]
    sent = {"period": figures["period"], "sales_volume": figures["sales_volume"], "totals": figures["totals"],
            "items": sorted(shown, key=lambda item: -item["profit"])}
    if len(items) > len(shown):
        shown_ids = {id(item) for item in shown}
        rest = [item for item in items if id(item) not in shown_ids]
        sent["other_items"] = {"count": len(rest), "revenue": sum(i["revenue"] for i in rest),
                               "profit": sum(i["profit"] for i in rest)}
    period = figures["period"]
    instructions = (
        f"아래는 한 음식점의 {period['start']}부터 {period['end']}까지 메뉴별 매출 정보입니다(금액 단위: 원). "
        "revenue는 매출, cost는 원가, profit은 순이익, margin_pct는 이익률(%), quantity는 판매 수량입니다. "
        "cost_missing이 true인 메뉴는 원가가 등록되지 않아 순이익이 실제보다 크게 잡혀 있습니다.\n"
        "매출과 원가를 함께 고려해 1) 이익을 많이 내는 메뉴, 2) 손해를 보거나 이익이 적은 메뉴를 짚고, "
        "3) 어떤 메뉴에 어떤 프로모션이나 이벤트를 하면 매출과 이익이 늘지 구체적인 프로모션 전략을 짧게 제안하세요. "
        "'데이터' 대신 '매출 정보'라고 말하고, 금액은 천 단위 구분 기호와 '원'을 붙여 쓰고, "
        "핵심만 한국어로 15줄 이내로 답하세요.\n"
        "매출 정보: " + json.dumps(sent, ensure_ascii=False, separators=(",", ":"))
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": instructions}]


def ask_model(*, figures: dict, model: ModelSettings, client: openai.OpenAI | None = None) -> str:
    try:
        text = _ask_model(figures=figures, model=model, client=client)
    except AdviceFailed:
        MODEL_CALLS.labels("failure").inc()
        raise
    MODEL_CALLS.labels("success").inc()
    return text


def _ask_model(*, figures: dict, model: ModelSettings, client: openai.OpenAI | None) -> str:
    own_client = client is None
    client = client or new_model_client(model)
    tries = f"{model.max_retries + 1}회 시도"
    try:
        completion = client.chat.completions.create(model=model.model, messages=prompt_messages(figures))
        text = (completion.choices[0].message.content or "").strip() if completion.choices else ""
    except openai.APITimeoutError:
        raise AdviceFailed(f"AI 컨설팅 실패: 응답 시간 초과 ({model.timeout:g}초, {tries})") from None
    except openai.AuthenticationError:
        raise AdviceFailed("AI 컨설팅 실패: OPENAI_API_KEY가 거부되었습니다 (401)") from None
    except openai.RateLimitError:
        raise AdviceFailed(f"AI 컨설팅 실패: 요청 한도 초과 (429, {tries})") from None
    except openai.APIStatusError as exc:
        retried = (exc.status_code in (HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.CONFLICT)
                   or exc.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR)
        raise AdviceFailed(f"AI 컨설팅 실패: AI 서비스 오류 ({exc.status_code}"
                           f"{', ' + tries if retried else ''})") from None
    except openai.APIConnectionError:
        raise AdviceFailed(f"AI 컨설팅 실패: AI 서비스에 연결할 수 없습니다 ({tries})") from None
    except (openai.OpenAIError, ValueError, TypeError, AttributeError):
        # A reply of the wrong shape (not JSON, no choices, no message).
        raise AdviceFailed("AI 컨설팅 실패: AI 서비스의 응답을 읽을 수 없습니다") from None
    finally:
        if own_client:
            client.close()
    if not text:
        raise AdviceFailed("AI 컨설팅 실패: AI 서비스가 빈 답을 보냈습니다")
    return text


# --- the rule-based analyst --------------------------------------------------------------------

def won(amount: int) -> str:
    return f"{amount:,}원"


def _josa(word: str, with_final: str, without_final: str) -> str:
    """The Korean particle that fits the word's last syllable: 은/는, 을/를."""
    last = word.rstrip("'\"")[-1:] or " "
    if "가" <= last <= "힣":
        return word + (with_final if (ord(last) - ord("가")) % 28 else without_final)
    return f"{word}{with_final}({without_final})"


def _named(item: dict, with_final: str, without_final: str) -> str:
    return _josa(f"'{item['name']}'", with_final, without_final)


def _margin(item: dict) -> str:
    return "원가 미등록" if item["margin_pct"] is None else f"이익률 {item['margin_pct']:.1f}%"


def _line(item: dict) -> str:
    cost = "원가 미등록" if item["cost_missing"] else f"원가 {won(item['cost'])}"
    return (f"- {item['name']}: {item['quantity']:,}개 판매, 매출 {won(item['revenue'])}, {cost}, "
            f"순이익 {won(item['profit'])} ({_margin(item)})")


def _unit_profit(item: dict) -> int:
    return item["profit"] // item["quantity"] if item["quantity"] else item["profit"]


def _header(figures: dict) -> list[str]:
    period = figures["period"]
    return [f"[규칙 기반 분석] {period['start']} ~ {period['end']} 매출 정보", RULE_BASED_NOTE, ""]


def empty_period_advice(figures: dict, *, ai_enabled: bool) -> str:
    period = figures["period"]
    lines = [f"[규칙 기반 분석] {period['start']} ~ {period['end']} 매출 정보"]
    if not ai_enabled:
        lines.append(RULE_BASED_NOTE)
    lines += [
        "",
        "이 기간에는 결제된 판매가 없어 분석할 매출 정보가 없습니다.",
        "판매가 있었던 기간을 골라 다시 요청해 주세요.",
        "아직 영업 초기라면 첫 방문 할인이나 SNS 후기 이벤트로 손님을 모으는 것부터 시작해 보세요.",
    ]
    return "\n".join(lines)


def rule_based_advice(figures: dict) -> str:
    ranking = _rank(figures["items"])
    return "\n".join([
        *_header(figures),
        _overall(figures, ranking),
        *_best_and_worst(ranking),
        *_cost_warnings(ranking),
        "", "■ 프로모션 제안",
        *(f"{n}. {text}" for n, text in enumerate(_promotions(ranking), start=1)),
    ])


@dataclasses.dataclass(frozen=True)
class _Ranking:
    """The menu as the analyst reads it: ranked by profit where costs are known, else by revenue."""

    items: list[dict]
    by_profit: bool
    ranked: list[dict]
    top: list[dict]
    bottom: list[dict]
    missing: list[dict]
    losing: list[dict]
    thin: list[dict]


def _rank(items: list[dict]) -> _Ranking:
    costed = [item for item in items if not item["cost_missing"]]
    # Profit ranks only items whose cost is known; without any, revenue has to do.
    ranked = (sorted(costed, key=lambda i: (-i["profit"], -i["revenue"], i["name"])) if costed
              else sorted(items, key=lambda i: (-i["revenue"], i["name"])))
    top = ranked[:max(1, min(3, len(ranked) // 2))]
    return _Ranking(
        items=items,
        by_profit=bool(costed),
        ranked=ranked,
        top=top,
        bottom=list(reversed(ranked[len(top):]))[:3],
        missing=[item for item in items if item["cost_missing"]],
        losing=sorted((i for i in costed if i["profit"] < 0), key=lambda i: i["profit"]),
        thin=sorted((i for i in costed if i["profit"] >= 0 and (i["margin_pct"] or 0) < LOW_MARGIN_PCT),
                    key=lambda i: (i["margin_pct"] or 0)),
    )


def _overall(figures: dict, ranking: _Ranking) -> str:
    totals = figures["totals"]
    overall = f"■ 전체: 메뉴 매출 {won(totals['revenue'])}, 순이익 {won(totals['profit'])}"
    # A margin over items some of whose costs count as 0 would flatter the store.
    if totals["margin_pct"] is not None and not ranking.missing:
        overall += f" (이익률 {totals['margin_pct']:.1f}%)"
    return overall + f", 결제 금액 {won(figures['sales_volume'])}"


def _best_and_worst(ranking: _Ranking) -> list[str]:
    lines = ["", "■ 이익을 가장 많이 내는 메뉴" if ranking.by_profit
             else "■ 가장 많이 팔린 메뉴 (원가가 없어 매출 기준)"]
    lines += [_line(item) for item in ranking.top]
    if ranking.bottom:
        lines += ["", "■ 이익이 가장 적은 메뉴" if ranking.by_profit else "■ 적게 팔린 메뉴 (매출 기준)"]
        lines += [_line(item) for item in ranking.bottom]
    return lines


def _cost_warnings(ranking: _Ranking) -> list[str]:
    """Items without a cost, items sold at a loss, and items with a thin margin."""
    lines = []
    if ranking.missing:
        lines += ["", "■ 원가가 등록되지 않은 메뉴: " + ", ".join(i["name"] for i in ranking.missing),
                  "  원가를 입력해야 정확한 순이익을 알 수 있습니다 (원가 미등록분은 0원으로 계산됨)."]
    if ranking.losing:
        lines += ["", "■ 손해를 보는 메뉴: " + ", ".join(
            f"{i['name']} (순이익 {won(i['profit'])}, {_margin(i)})" for i in ranking.losing)]
    if ranking.thin:
        lines += ["", f"■ 이익률이 낮은 메뉴 ({LOW_MARGIN_PCT:.0f}% 미만): " + ", ".join(
            f"{i['name']} ({_margin(i)})" for i in ranking.thin)]
    return lines


def _promotions(ranking: _Ranking) -> list[str]:
    """Two or three promotions: a set of the best earner with a slow seller, a time-limited discount
    within the unit profit, and a price review of the worst loss maker (or a return-visit coupon)."""
    items, losing, thin = ranking.items, ranking.losing, ranking.thin
    best = ranking.ranked[0]
    # Slow sellers that do not lose money, fewest sold first: a loss maker is no item to discount.
    slow = sorted((i for i in items if i is not best and i not in losing),
                  key=lambda i: (i["quantity"], i["revenue"], i["name"]))
    ideas = []
    if slow:
        ideas.append(
            f"세트 구성: 가장 많이 버는 '{best['name']}'에 덜 팔리는 '{slow[0]['name']}'"
            f"({slow[0]['quantity']:,}개 판매)까지 묶은 세트를 만들어 '{slow[0]['name']}'의 판매를 늘리세요. "
            f"세트 할인은 '{best['name']}' 1개의 이익({won(max(_unit_profit(best), 0))}) 안에서 정하면 "
            "손해가 나지 않습니다.")
    else:
        ideas.append(
            f"세트 구성: 대표 메뉴 '{best['name']}'에 음료나 사이드를 더한 세트를 만들어 "
            "한 번에 결제하는 금액을 높이세요.")
    discounted = thin[0] if thin else (slow[1] if len(slow) > 1 else None)
    if discounted is not None:
        ideas.append(
            f"시간 한정 할인: 손님이 적은 시간대(예: 오후 3~5시)에만 {_named(discounted, '을', '를')} 할인해 "
            f"판매량을 늘리세요. 개당 이익이 {won(max(_unit_profit(discounted), 0))}이므로 할인 폭은 그보다 작게 "
            "잡으세요.")
    if losing:
        worst = losing[0]
        loss = -_unit_profit(worst)
        ideas.append(
            f"가격 재검토: {_named(worst, '은', '는')} 1개 팔 때마다 약 {won(loss)}씩 손해입니다. 판매가를 "
            f"{won(loss)} 이상 올리거나 재료와 양을 다시 검토하고, 그 전까지는 할인 대상에서 빼세요.")
    if len(ideas) < MIN_PROMOTIONS or (not losing and len(ideas) < MAX_PROMOTIONS):
        ideas.append(
            f"재방문 쿠폰: {_named(best, '을', '를')} 주문한 손님에게 다음 방문 때 쓸 수 있는 쿠폰을 드려 "
            "단골을 늘리세요.")
    return ideas[:MAX_PROMOTIONS]
