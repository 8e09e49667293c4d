"""The Grafana dashboard: the four panels the issue asks for, each on series the code exposes."""
from __future__ import annotations

import copy
import json

from deploy_checks.code_facts import code_facts, exposed_series, series_in
from deploy_checks.layout import GRAFANA_DASHBOARD, K8S
from deploy_checks.manifests import named, rendered

# title -> series each panel must use
REQUIRED_PANELS = {
    "POS latency": {"http_request_duration_seconds_bucket"},
    "Error rate": {"http_requests_total"},
    "Payments per minute": {"salesync_payments_total"},
    "Consulting backlog": {"salesync_outbox", "salesync_consulting_jobs"},
}


def dashboard_problems(dashboard: dict, known_series: set[str]) -> list[str]:
    problems = []
    panels = {panel["title"]: panel for panel in dashboard.get("panels") or []}
    for title, needed in REQUIRED_PANELS.items():
        panel = next((panel for name, panel in panels.items() if name.startswith(title)), None)
        if panel is None:
            problems.append(f"no panel '{title}'")
            continue
        used = set().union(*(series_in(target["expr"]) for target in panel.get("targets") or []))
        if not needed <= used:
            problems.append(f"panel '{panel['title']}' does not show {sorted(needed - used)}")
    for panel in panels.values():
        for target in panel.get("targets") or []:
            for name in sorted(series_in(target["expr"]) - known_series):
                problems.append(f"panel '{panel['title']}' queries {name}, which no service exposes")
    latency = next((panel for name, panel in panels.items() if name.startswith("POS latency")), None)
    if latency and not all('service="bff"' in t["expr"] and "0.95" in t["expr"] and "route" in t["expr"]
                           for t in latency["targets"]):
        problems.append("POS latency is not the BFF's p95 by route")
    return problems


def test_dashboard_shows_latency_errors_payments_and_backlog_from_real_series():
    dashboard = json.loads(GRAFANA_DASHBOARD.read_text())
    assert dashboard_problems(dashboard, exposed_series(code_facts().metric_names)) == []


def test_dashboard_check_catches_a_series_no_service_exposes():
    dashboard = json.loads(GRAFANA_DASHBOARD.read_text())
    broken = copy.deepcopy(dashboard)
    backlog = next(panel for panel in broken["panels"] if panel["title"].startswith("Consulting backlog"))
    backlog["targets"] = [{"refId": "A", "expr": "sum(salesync_outbox_pending)"}]
    broken["panels"] = [panel for panel in broken["panels"] if not panel["title"].startswith("Payments")]
    assert dashboard_problems(broken, exposed_series(code_facts().metric_names)) == [
        "no panel 'Payments per minute'",
        "panel 'Consulting backlog' does not show ['salesync_consulting_jobs', 'salesync_outbox']",
        "panel 'Consulting backlog' queries salesync_outbox_pending, which no service exposes",
    ]


def test_series_are_read_from_promql():
    assert series_in('histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{service="bff"}[5m])))') == \
        {"x_bucket"}
    assert series_in('max(salesync_outbox{figure="pending"}) / on (a) b_total * 60') == {"salesync_outbox",
                                                                                         "b_total"}


def test_the_dashboard_ships_as_a_grafana_configmap():
    config = named(rendered(K8S / "overlays" / "prod" / "monitoring"), "ConfigMap", "salesync-grafana-dashboard")
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config["data"]["salesync-dashboard.json"]) == json.loads(GRAFANA_DASHBOARD.read_text())
