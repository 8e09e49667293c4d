import os
import pathlib
import subprocess
import sys

import pytest

from salesync_common.settings import ConfigError, Settings

REPO = pathlib.Path(__file__).resolve().parents[2]
SECRET = "s" * 40


def test_local_defaults_need_no_environment():
    settings = Settings.from_env("store", env={})
    assert settings.environment == "development"
    assert settings.database_url == "postgresql+psycopg2://postgres@127.0.0.1:5432/salesync"
    assert settings.db_schema == "store"
    assert len(settings.jwt_secret) >= 32
    assert settings.service_urls["item"] == "http://127.0.0.1:8002"
    assert settings.service_urls["bff"] == "http://127.0.0.1:8000"


def test_hostile_input_limits_default_to_32_levels_and_64_kb_and_cors_to_any_origin():
    settings = Settings.from_env("bff", env={})
    assert (settings.max_json_depth, settings.max_body_bytes, settings.cors_origins) == (32, 65536, ("*",))
    changed = Settings.from_env("bff", env={
        "SALESYNC_MAX_JSON_DEPTH": "8", "SALESYNC_MAX_BODY_BYTES": "4096",
        "SALESYNC_CORS_ORIGINS": " https://pos.salesync.example , http://localhost:3000/"})
    assert (changed.max_json_depth, changed.max_body_bytes) == (8, 4096)
    assert changed.cors_origins == ("https://pos.salesync.example", "http://localhost:3000")
    assert Settings.from_env("bff", env={"SALESYNC_CORS_ORIGINS": "*"}).cors_origins == ("*",)


def test_the_sales_page_is_100_by_default_and_at_most_500():
    settings = Settings.from_env("sale", env={})
    assert (settings.sales_page_default, settings.sales_page_max) == (100, 500)
    changed = Settings.from_env("sale", env={"SALESYNC_SALES_PAGE_DEFAULT": "20", "SALESYNC_SALES_PAGE_MAX": "50"})
    assert (changed.sales_page_default, changed.sales_page_max) == (20, 50)


def test_deadlines_and_bulkheads_default_to_4_s_8_s_for_reports_and_slots_for_the_dashboard_and_consulting():
    settings = Settings.from_env("bff", env={})
    assert (settings.request_deadline_ms, settings.report_deadline_ms) == (4000, 8000)
    assert settings.bulkhead_slots == {"dashboard": 2, "consulting": 1}
    changed = Settings.from_env("bff", env={"SALESYNC_REQUEST_DEADLINE_MS": "2500",
                                            "SALESYNC_BULKHEAD_SLOTS_ORDER": "6",
                                            "SALESYNC_BULKHEAD_SLOTS_DASHBOARD": "0"})
    assert changed.request_deadline_ms == 2500
    assert changed.bulkhead_slots == {"order": 6, "consulting": 1}  # 0: no limit but the threads


def test_each_service_may_have_its_own_database_and_service_addresses():
    env = {"DATABASE_URL": "postgres://shared/db", "ORDER_DATABASE_URL": "postgresql://orders-host/orders",
           "ITEM_SERVICE_URL": "http://service-item.default.svc.cluster.local", "SALESYNC_JWT_SECRET": SECRET}
    assert Settings.from_env("store", env=env).database_url == "postgresql+psycopg2://shared/db"
    order = Settings.from_env("order", env=env)
    assert order.database_url == "postgresql+psycopg2://orders-host/orders"
    assert order.service_urls["item"] == "http://service-item.default.svc.cluster.local"


@pytest.mark.parametrize("env,variable", [
    ({"SALESYNC_ENV": "production", "DATABASE_URL": "postgresql://db/x"}, "SALESYNC_JWT_SECRET"),
    ({"SALESYNC_ENV": "production", "SALESYNC_JWT_SECRET": SECRET}, "DATABASE_URL"),
    ({"SALESYNC_JWT_SECRET": "short"}, "SALESYNC_JWT_SECRET"),
    ({"SALESYNC_JWT_TTL_SECONDS": "a day"}, "SALESYNC_JWT_TTL_SECONDS"),
    ({"SALESYNC_HTTP_READ_TIMEOUT": "-1"}, "SALESYNC_HTTP_READ_TIMEOUT"),
    ({"SALESYNC_ENV": "staging"}, "SALESYNC_ENV"),
    ({"SALESYNC_MAX_JSON_DEPTH": "deep"}, "SALESYNC_MAX_JSON_DEPTH"),
    ({"SALESYNC_MAX_BODY_BYTES": "10"}, "SALESYNC_MAX_BODY_BYTES"),
    ({"SALESYNC_SALES_PAGE_DEFAULT": "0"}, "SALESYNC_SALES_PAGE_DEFAULT"),
    ({"SALESYNC_SALES_PAGE_DEFAULT": "600"}, "SALESYNC_SALES_PAGE_DEFAULT"),
    ({"SALESYNC_SALES_PAGE_MAX": "many"}, "SALESYNC_SALES_PAGE_MAX"),
    ({"SALESYNC_CORS_ORIGINS": "pos.example.com"}, "SALESYNC_CORS_ORIGINS"),
    ({"SALESYNC_CORS_ORIGINS": "https://pos.example.com/app"}, "SALESYNC_CORS_ORIGINS"),
    ({"SALESYNC_CORS_ORIGINS": "https://pos.example.com,*"}, "SALESYNC_CORS_ORIGINS"),
    ({"SALESYNC_REQUEST_DEADLINE_MS": "10"}, "SALESYNC_REQUEST_DEADLINE_MS"),
    ({"SALESYNC_REPORT_DEADLINE_MS": "soon"}, "SALESYNC_REPORT_DEADLINE_MS"),
    ({"SALESYNC_BULKHEAD_SLOTS_DASHBOARD": "-1"}, "SALESYNC_BULKHEAD_SLOTS_DASHBOARD"),
])
def test_a_missing_or_wrong_setting_is_a_clear_error_naming_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env("store", env=env)


def test_production_without_a_secret_stops_with_one_line_and_no_traceback():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESYNC_")}
    env.update(SALESYNC_ENV="production", DATABASE_URL="postgresql://db/x", PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", "import store_service.wsgi"], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3
    assert "configuration error: SALESYNC_JWT_SECRET must be set in production" in result.stderr
    assert "Traceback" not in result.stderr
