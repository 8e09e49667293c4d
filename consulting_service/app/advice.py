"""Advice an owner can act on, from a period's figures (figures.py), in Korean plain text in sections:
요약, 메뉴 분석, 할 일, 시간대 and three things to do next week.

With OPENAI_API_KEY set, an OpenAI chat model writes it from the figures as JSON (the `openai` client retries
408, 409, 429 and 5xx with exponential backoff and jitter); a model that cannot be reached fails the job with
a reason the store owner can read, and an answer that is empty, too long or not text is replaced by the
rule-based advice, which says so (source "fallback"). Without a key, the rule-based analyst writes it from
the same figures and says so. Every number in the rule-based text is one of the figures.
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

from .figures import DOG, PLOWHORSE, PUZZLE, STAR
from .models import FALLBACK, OPENAI, RULE_BASED

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RETRIES = 2
# Enough for a menu; a longer one is summed up so the prompt stays small.
MAX_ITEMS_FOR_MODEL = 40
# An answer longer than this is no advice an owner reads on a small window (OPENAI_MAX_ANSWER_CHARS).
DEFAULT_MAX_ANSWER_CHARS = 4000
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
    max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS

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
            max_answer_chars=_number(env, "OPENAI_MAX_ANSWER_CHARS", DEFAULT_MAX_ANSWER_CHARS, int, minimum=100),
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
    if not figures["items"] and not figures["totals"]["revenue"]["value"]:
        return Advice(RULE_BASED, empty_period_advice(figures, ai_enabled=model is not None))
    if model is None:
        return Advice(RULE_BASED, rule_based_advice(figures))
    try:
        return Advice(OPENAI, ask_model(figures=figures, model=model, client=client))
    except UnusableAnswer as exc:
        return Advice(FALLBACK, rule_based_advice(figures, note=f"※ {exc.reason} 규칙 기반 분석으로 대신합니다."))


# --- the model ---------------------------------------------------------------------------------

SYSTEM_PROMPT = "당신은 음식점 사장님이 내일 바로 실행할 수 있는 조언을 하는 외식업 경영 컨설턴트입니다."
SECTIONS = ("요약", "메뉴 분석", "할 일", "시간대", "다음 주에 할 세 가지")


class UnusableAnswer(Exception):
    """The model answered, but nothing an owner can read: reason says why, for the fallback's note."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def model_figures(figures: dict) -> dict:
    """The figures as sent: the menu cut to MAX_ITEMS_FOR_MODEL items by revenue, the rest summed up."""
    items = figures["items"]
    shown = sorted(items, key=lambda item: -item["revenue"])[:MAX_ITEMS_FOR_MODEL]
    sent = {**figures, "items": [item for item in items if item in shown]}
    if len(items) > len(shown):
        rest = [item for item in items if item not in shown]
        sent["other_items"] = {"count": len(rest), "quantity": sum(i["quantity"] for i in rest),
                               "revenue": sum(i["revenue"] for i in rest)}
    return sent


def prompt_messages(figures: dict) -> list[dict]:
    period = figures["period"]
    instructions = (
        f"아래는 한 음식점의 {period['start']}부터 {period['end']}까지({period['days']}일) 매출 정보와, "
        "바로 앞 같은 길이의 기간(previous_period)과의 비교입니다(금액 단위: 원). "
        "totals의 change_pct는 직전 기간 대비 증감률(%)입니다. items의 class는 메뉴 엔지니어링(Kasavana–Smith) "
        "분류로 Star(인기·고마진), Plowhorse(인기·저마진), Puzzle(비인기·고마진), Dog(비인기·저마진)이고, "
        "class가 null인 메뉴는 원가가 등록되지 않은 메뉴입니다. unit_margin은 1개당 마진, contribution은 "
        "공헌이익, share_pct는 판매 비중입니다. hours와 weekdays는 시간대·요일별 주문과 매출, peak_hours는 "
        "가장 바쁜 시간, empty_hours는 손님이 거의 없는 시간, not_sold는 팔리지 않은 메뉴입니다.\n"
        f"다음 순서의 짧은 절로 답하세요: {', '.join(SECTIONS)}. 메뉴 분석에는 메뉴마다 한 줄에 이름, 분류"
        "(예: 스타(Star), 플로호스(Plowhorse), 퍼즐(Puzzle), 도그(Dog)), 숫자를 쓰고, 할 일에는 분류마다 "
        "구체적인 행동 하나를 쓰세요. 숫자는 아래 매출 정보에 있는 것만 쓰고, 금액은 천 단위 구분 기호와 '원'을 "
        "붙이세요. '데이터' 대신 '매출 정보'라고 말하고, 한국어 일반 텍스트(마크다운 없이)로 40줄 이내로 답하세요.\n"
        "매출 정보: " + json.dumps(model_figures(figures), ensure_ascii=False, separators=(",", ":"))
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": instructions}]


def ask_model(*, figures: dict, model: ModelSettings, client: openai.OpenAI | None = None) -> str:
    try:
        text = _ask_model(figures=figures, model=model, client=client)
    except (AdviceFailed, UnusableAnswer):
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
        content = completion.choices[0].message.content if completion.choices else ""
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
        raise UnusableAnswer("AI 서비스의 응답을 읽을 수 없어") from None
    finally:
        if own_client:
            client.close()
    return usable_answer(content, max_chars=model.max_answer_chars)


def usable_answer(content, *, max_chars: int) -> str:
    if content is not None and not isinstance(content, str):
        raise UnusableAnswer("AI의 답이 글이 아니어서")
    text = (content or "").strip()
    if not text:
        raise UnusableAnswer("AI가 빈 답을 보내")
    if len(text) > max_chars:
        raise UnusableAnswer(f"AI의 답이 너무 길어({len(text):,}자, 최대 {max_chars:,}자)")
    return text


# --- the rule-based analyst --------------------------------------------------------------------

CLASS_NAMES = {STAR: "스타(Star)", PLOWHORSE: "플로호스(Plowhorse)", PUZZLE: "퍼즐(Puzzle)", DOG: "도그(Dog)"}
NO_COST = "원가 미등록"
# A fall of this much (percent) against the period before is worth acting on first.
DROP_PCT = -5.0
CLASS_ACTIONS = {
    STAR: "메뉴판 맨 위와 추천 자리에 계속 두고, 가격과 양은 지금대로 지키세요.",
    PLOWHORSE: "잘 팔리지만 1개당 마진이 평균보다 낮습니다. 가격을 조금 올리거나 재료·양을 조정해 원가를 낮추세요.",
    PUZZLE: "마진은 좋은데 덜 팔립니다. 메뉴판의 잘 보이는 자리로 옮기고 직원 추천이나 SNS로 알리세요.",
    DOG: "덜 팔리고 마진도 낮습니다. 메뉴에서 빼거나 재료·구성을 바꿔 다시 내놓으세요.",
}


def won(amount: int) -> str:
    return f"{amount:,}원"


def pct(value: float | None) -> str:
    return "직전 기록 없음" if value is None else f"{value:+.1f}%"


def hour_name(hour: int) -> str:
    return f"{hour}시"


def _josa(word: str, with_final: str, without_final: str) -> str:
    """The Korean particle that fits the word's last syllable: 은/는, 을/를."""
    last = word.rstrip("'\"")[-1:] or " "
    if "가" <= last <= "힣":
        return word + (with_final if (ord(last) - ord("가")) % 28 else without_final)
    return f"{word}{with_final}({without_final})"


def _names(items: list[dict]) -> str:
    return ", ".join(item["name"] for item in items)


def _by_class(figures: dict) -> dict[str | None, list[dict]]:
    groups: dict[str | None, list[dict]] = {}
    for item in figures["items"]:
        groups.setdefault(item["class"], []).append(item)
    return groups


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


def rule_based_advice(figures: dict, *, note: str = RULE_BASED_NOTE) -> str:
    period = figures["period"]
    return "\n".join([
        f"[규칙 기반 분석] {period['start']} ~ {period['end']} ({period['days']}일) 매출 분석", note,
        "", "■ 요약", *_summary(figures),
        "", "■ 메뉴 분석", *_menu(figures),
        "", "■ 할 일", *_todo(figures),
        "", "■ 시간대", *_hours(figures),
        "", "■ 다음 주에 할 세 가지", *(f"{n}. {text}" for n, text in enumerate(_next_week(figures), start=1)),
    ])


def _summary(figures: dict) -> list[str]:
    totals, before = figures["totals"], figures["previous_period"]
    revenue = totals["revenue"]
    lines = [
        f"- 매출 {won(revenue['value'])}: 직전 기간({before['start']} ~ {before['end']}) {won(revenue['previous'])} "
        f"대비 {pct(revenue['change_pct'])}",
        f"- 결제 {totals['payments']['value']:,}건 ({pct(totals['payments']['change_pct'])}), "
        f"객단가 {won(totals['average_ticket']['value'])} ({pct(totals['average_ticket']['change_pct'])})",
        f"- 현금 {won(totals['cash']['value'])} ({pct(totals['cash']['change_pct'])}), "
        f"카드 {won(totals['card']['value'])} ({pct(totals['card']['change_pct'])})",
        f"- 환불 {won(totals['refunds']['value'])} (직전 기간 {won(totals['refunds']['previous'])})",
    ]
    change = revenue["change_pct"]
    if change is not None and change <= DROP_PCT:
        lines.append("- 매출이 직전 기간보다 줄었습니다. 결제 건수와 객단가 중 어느 쪽이 줄었는지 "
                     "위 숫자로 확인하세요.")
    elif change is not None and change > 0:
        lines.append("- 매출이 직전 기간보다 늘었습니다. 늘어난 손님이 다시 오도록 하는 것이 다음 과제입니다.")
    return lines


def _menu(figures: dict) -> list[str]:
    lines = [f"(인기 기준: 판매 비중 {figures['popular_share_pct']:.1f}% 이상, "
             f"수익 기준: 1개당 마진 {won(figures['average_unit_margin'])} 이상)"]
    for item in figures["items"]:
        sold = f"{item['quantity']:,}개 판매(비중 {item['share_pct']:.1f}%), 매출 {won(item['revenue'])}"
        if item["class"] is None:
            lines.append(f"- {item['name']}: {NO_COST} · {sold} (원가를 등록하면 분류됩니다)")
        else:
            lines.append(f"- {item['name']}: {CLASS_NAMES[item['class']]} · {sold}, "
                         f"1개당 마진 {won(item['unit_margin'])}, 공헌이익 {won(item['contribution'])}")
    if figures["not_sold"]:
        lines.append(f"- 판매되지 않은 메뉴: {', '.join(figures['not_sold'])}")
    return lines


def _todo(figures: dict) -> list[str]:
    groups = _by_class(figures)
    lines = [f"- {CLASS_NAMES[name]} {_names(groups[name])}: {CLASS_ACTIONS[name]}"
             for name in (STAR, PLOWHORSE, PUZZLE, DOG) if name in groups]
    if None in groups:
        lines.append(f"- {NO_COST} {_names(groups[None])}: 원가를 등록해야 마진과 분류를 알 수 있습니다.")
    if figures["not_sold"]:
        lines.append(f"- 판매되지 않은 메뉴 {', '.join(figures['not_sold'])}: 한 번도 팔리지 않았습니다. "
                     "메뉴판에서 빼거나 잘 팔리는 메뉴와 묶어 내놓으세요.")
    return lines


def _hour_figures(figures: dict) -> dict[int, dict]:
    return {entry["hour"]: entry for entry in figures["hours"]}


def _hours(figures: dict) -> list[str]:
    if not figures["hours"]:
        return ["- 이 기간에는 시간대별로 볼 주문이 없습니다."]
    by_hour = _hour_figures(figures)
    lines = ["- 가장 바쁜 시간: " + ", ".join(
        f"{hour_name(h)}(매출 {won(by_hour[h]['revenue'])}, 주문 {by_hour[h]['orders']:,}건)"
        for h in figures["peak_hours"])]
    if figures["empty_hours"]:
        empty = ", ".join(f"{hour_name(h)}(주문 {by_hour.get(h, {'orders': 0})['orders']:,}건)"
                          for h in figures["empty_hours"])
        lines += [f"- 손님이 거의 없는 시간: {empty}",
                  "  이 시간에만 여는 할인이나 세트(예: 퍼즐 메뉴와 음료)를 내거나, 재료 준비와 휴식 시간으로 쓰세요."]
    else:
        lines.append("- 영업 시간 중 손님이 거의 없는 시간은 없습니다.")
    if len(figures["weekdays"]) > 1:
        best = max(figures["weekdays"], key=lambda day: day["revenue"])
        worst = min(figures["weekdays"], key=lambda day: day["revenue"])
        if best["revenue"] == worst["revenue"]:
            lines.append(f"- 요일: 요일마다 매출이 같습니다({won(best['revenue'])}).")
        else:
            lines.append(f"- 요일: 매출이 가장 높은 {best['weekday']}요일 {won(best['revenue'])}, "
                         f"가장 낮은 {worst['weekday']}요일 {won(worst['revenue'])}")
    return lines


def _next_week(figures: dict) -> list[str]:
    """Three actions, most pressing first: a falling revenue, the menu's weak spots, the empty hours."""
    groups = _by_class(figures)
    change = figures["totals"]["revenue"]["change_pct"]
    ideas = []
    if change is not None and change <= DROP_PCT:
        ideas.append(f"매출이 직전 기간 대비 {pct(change)}입니다. 지난 기간에 온 손님에게 재방문 쿠폰을 보내고, "
                     "가장 바쁜 시간에 자리 회전을 늦추는 일이 없는지 살피세요.")
    if PLOWHORSE in groups:
        item = groups[PLOWHORSE][0]
        ideas.append(f"{item['name']}의 1개당 마진 {won(item['unit_margin'])}을 평균 "
                     f"{won(figures['average_unit_margin'])} 가까이로: 가격이나 재료를 조정하세요.")
    if DOG in groups:
        ideas.append(f"{_josa(_names(groups[DOG]), '을', '를')} 메뉴에서 빼거나 바꿀지 정하세요.")
    if figures["empty_hours"]:
        hours = ", ".join(hour_name(h) for h in figures["empty_hours"])
        ideas.append(f"손님이 없는 {hours}에 한정 할인이나 세트를 한 주 동안 시험해 보세요.")
    if PUZZLE in groups:
        ideas.append(f"{_josa(_names(groups[PUZZLE]), '을', '를')} 메뉴판 앞쪽으로 옮기고 직원이 먼저 권하게 하세요.")
    if None in groups:
        ideas.append(f"{_names(groups[None])}의 원가를 등록하세요.")
    if STAR in groups:
        ideas.append(f"{_josa(_names(groups[STAR]), '은', '는')} 재료가 떨어지지 않게 준비량을 먼저 챙기세요.")
    ideas.append("다음 주 같은 요일의 매출을 이번 분석과 비교해 보세요.")
    return ideas[:3]
