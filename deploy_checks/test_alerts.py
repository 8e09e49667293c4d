"""The alert rules (k8s/monitoring/prometheusrule.yaml): the alerts the issue asks for, each on series
the code exports (scanned from the code: Counter/Gauge/Histogram names and scrape-time gauges)."""
from __future__ import annotations

import copy

from deploy_checks.code_facts import code_facts, exposed_series, series_in
from deploy_checks.layout import PROMETHEUS_RULES, load_yaml

# alert -> (series its expression must use, a piece of the expression that states the threshold)
REQUIRED_ALERTS = {
    "SalesyncHighErrorRatio": ({"http_requests_total"}, 'status=~"5.."'),
    "SalesyncPosSlow": ({"http_request_duration_seconds_bucket"}, "histogram_quantile(0.99"),
    "SalesyncOutboxBacklog": ({"salesync_outbox"}, 'figure="oldest_age_seconds"'),
    "SalesyncConsumerLag": ({"salesync_consumer_lag"}, ">"),
    "SalesyncDeadLetters": ({"salesync_consumer_dead_letters_last_hour"}, "> 0"),
    "SalesyncSalesPending": ({"salesync_sales_pending"}, "> 60"),
    "SalesyncSmsDailyCap": ({"salesync_sms_today"}, ">= 0.8"),
}


def alerts(rule_object: dict) -> dict[str, dict]:
    return {rule["alert"]: rule for group in rule_object["spec"]["groups"] for rule in group.get("rules") or []
            if "alert" in rule}


def alert_problems(rule_object: dict, known_series: set[str]) -> list[str]:
    problems = []
    found = alerts(rule_object)
    for name, (needed, threshold) in REQUIRED_ALERTS.items():
        rule = found.get(name)
        if rule is None:
            problems.append(f"no alert {name}")
            continue
        expr = " ".join(str(rule["expr"]).split())
        if not needed <= series_in(expr):
            problems.append(f"{name} does not use {sorted(needed - series_in(expr))}")
        if threshold not in expr:
            problems.append(f"{name}: {threshold!r} is not in its expression")
    for name, rule in found.items():
        for series in sorted(series_in(str(rule["expr"])) - known_series):
            problems.append(f"{name} queries {series}, which the code does not export")
        if not (rule.get("annotations") or {}).get("summary"):
            problems.append(f"{name} has no summary to page with")
    return problems


def test_every_alert_asked_for_exists_on_series_the_code_exports():
    known = exposed_series(code_facts().metric_names)
    assert {"salesync_consumer_lag", "salesync_sales_pending", "salesync_sms_today"} <= known
    assert alert_problems(load_yaml(PROMETHEUS_RULES), known) == []


def test_alert_check_catches_a_missing_alert_and_a_series_nobody_exports():
    broken = copy.deepcopy(load_yaml(PROMETHEUS_RULES))
    rules = broken["spec"]["groups"][1]["rules"]
    rules[:] = [rule for rule in rules if rule["alert"] != "SalesyncSmsDailyCap"]
    lag = next(rule for rule in rules if rule["alert"] == "SalesyncConsumerLag")
    lag["expr"] = "max(kafka_consumergroup_lag) > 50"
    assert alert_problems(broken, exposed_series(code_facts().metric_names)) == [
        "SalesyncConsumerLag does not use ['salesync_consumer_lag']",
        "no alert SalesyncSmsDailyCap",
        "SalesyncConsumerLag queries kafka_consumergroup_lag, which the code does not export",
    ]


def test_series_are_read_from_alert_expressions():
    assert series_in("sum(max by (topic) (a_total)) - (sum(b offset 1h) or vector(0)) > 0") == {"a_total", "b"}
