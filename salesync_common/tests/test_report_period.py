"""A report's period is bounded (issue 14, point 3): start..end may cover at most 366 days by default
(SALESYNC_MAX_REPORT_DAYS); a longer one answers 400 naming "end", in every service that reads a period."""
import pytest
from flask import Flask, jsonify, request

from salesync_common import init_service
from salesync_common.business_day import parse_period
from salesync_common.settings import ConfigError, Settings
from testsupport.settings import TEST_JWT_SECRET, settings_for_tests


def make_app(**overrides) -> Flask:
    app = Flask("periods")
    init_service(app, settings_for_tests("dashboard", None, **overrides))

    @app.get("/report")
    def report():
        start, end = parse_period(request.args.get("start"), request.args.get("end"))
        return jsonify(days=(end - start).days + 1)

    return app


def ask(app, start, end):
    return app.test_client().get(f"/report?start={start}&end={end}")


def test_a_period_of_366_days_is_answered_and_367_is_a_400_naming_end_by_default():
    app = make_app()
    assert ask(app, "2023-01-02", "2024-01-02").get_json() == {"days": 366}

    response = ask(app, "2023-01-01", "2024-01-02")

    assert response.status_code == 400
    body = response.get_json()
    assert (body["result"], body["error"], body["field"], body["max_days"]) == ("failed", "invalid_field", "end", 366)
    assert "366 days" in body["message"]


def test_the_longest_period_is_a_setting():
    app = make_app(max_report_days=31)
    assert ask(app, "2024-01-01", "2024-01-31").get_json() == {"days": 31}

    response = ask(app, "2024-01-01", "2024-02-01")

    assert response.status_code == 400
    assert (response.get_json()["field"], response.get_json()["max_days"]) == ("end", 31)


def test_the_longest_period_setting_defaults_to_366_and_is_read_from_the_environment():
    env = {"SALESYNC_JWT_SECRET": TEST_JWT_SECRET}
    assert Settings.from_env("sale", env=env).max_report_days == 366
    assert Settings.from_env("sale", env={**env, "SALESYNC_MAX_REPORT_DAYS": "92"}).max_report_days == 92


@pytest.mark.parametrize("value", ["0", "-3", "a year"])
def test_a_longest_period_that_allows_nothing_is_refused_at_start(value):
    with pytest.raises(ConfigError, match="SALESYNC_MAX_REPORT_DAYS"):
        Settings.from_env("sale", env={"SALESYNC_JWT_SECRET": TEST_JWT_SECRET, "SALESYNC_MAX_REPORT_DAYS": value})
