"""Reading a service's /metrics in tests, as Prometheus would parse it."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(client, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """{sorted label pairs: value} of one metric family, from GET /metrics of a Flask test client."""
    families = text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    return {tuple(sorted(sample.labels.items())): sample.value
            for family in families if family.name == name for sample in family.samples}


def by_label(client, name: str, label: str) -> dict[str, float]:
    """{value of `label`: sample value} of one metric family."""
    return {dict(labels)[label]: value for labels, value in samples(client, name).items()}
