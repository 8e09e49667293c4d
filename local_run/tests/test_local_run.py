import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import uuid

import requests

from local_run import __main__ as local_run
from salesync_common.migrate import services_with_migrations
from salesync_common.purge import services_with_purges
from testsupport.served import ServiceProcess
from testsupport.settings import migrated_settings, service_headers

REPO = pathlib.Path(__file__).resolve().parents[2]
OWNER = {"username": "gunicorn" + uuid.uuid4().hex[:6], "password": "Passw0rd!23", "owner_name": "김사장",
         "phone": "01055556666", "store_name": "분식집", "address": "부산시", "store_type": "휴게음식점"}


def test_a_taken_port_is_a_clear_message_not_a_traceback():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "STORE_PORT": str(port), "PYTHONPATH": str(REPO)}
        result = subprocess.run([sys.executable, "-m", "local_run"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert f"already in use: store ({port})" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_the_store_service_under_gunicorn_signs_up_and_logs_in(database_url):
    migrated_settings("store", database_url)
    server = ServiceProcess("store", database_url, workers=2)
    try:
        bff = service_headers("store")  # the store service answers only to Salesync services
        signed_up = requests.post(server.url + "/stores/", json=OWNER, headers=bff, timeout=5)
        login = requests.post(server.url + "/stores/login", json={"username": OWNER["username"],
                                                                  "password": OWNER["password"]},
                              headers=bff, timeout=5)
        token = login.json()["access_token"]
        profile = requests.get(server.url + "/stores/", headers={"Authorization": f"Bearer {token}", **bff},
                               timeout=5)

        assert signed_up.status_code == 201
        assert login.status_code == 200
        assert profile.json()["store"]["store_name"] == "분식집"
        assert profile.headers["X-Request-ID"]
    finally:
        server.stop()


def migration_environment(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SALESYNC_JWT_SECRET": "j" * 48, "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1"}


def test_migrating_shows_one_plain_line_per_service_and_logs_json_to_a_file(database_url, tmp_path, monkeypatch,
                                                                          capsys):
    monkeypatch.setattr(local_run, "STATE", tmp_path)

    assert local_run.apply_migrations(migration_environment(database_url))

    console = capsys.readouterr()
    assert console.out.splitlines() == [f"[salesync] migrated {service}" for service in services_with_migrations()]
    assert console.err == ""
    logged = [line for line in (tmp_path / "logs" / "migrate.log").read_text().splitlines() if line.startswith("{")]
    assert {json.loads(line)["logger"] for line in logged} >= {"alembic.runtime.migration"}


def test_a_failing_migration_is_one_clear_line(database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(local_run, "STATE", tmp_path)
    missing = database_url.rsplit("/", 1)[0] + "/no_such_database_" + uuid.uuid4().hex[:8]

    assert not local_run.apply_migrations(migration_environment(missing))

    console = capsys.readouterr().out.splitlines()
    assert len(console) == 1 and console[0].startswith("[salesync] could not migrate store: ")
    assert "does not exist" in console[0]
    assert '"message": "migrating store failed"' in (tmp_path / "logs" / "migrate.log").read_text()


def test_a_demo_store_that_cannot_be_seeded_is_one_line_and_the_run_goes_on(database_url, store_service, tmp_path,
                                                                              monkeypatch, capsys):
    # Every service's address, the BFF's too, points at the store service: it answers only to Salesync
    # services, so the seed's first call (through the "BFF") gets a 401.
    monkeypatch.setattr(local_run, "STATE", tmp_path)
    port = int(store_service.url.rsplit(":", 1)[1])
    services = ["store", "item", "order", "sale", "bff"]

    assert local_run.seed_demo(database_url, dict.fromkeys(services, port), services) is None

    console = capsys.readouterr().out.splitlines()
    assert len(console) == 1 and console[0].startswith("[salesync] could not seed the demo store: ")
    assert "401" in console[0]


def test_the_purge_runs_at_once_then_again_after_its_interval(database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(local_run, "STATE", tmp_path)
    for service in services_with_purges():
        migrated_settings(service, database_url)
    purge = local_run.PeriodicPurge(migration_environment(database_url), interval=1)
    log = tmp_path / "logs" / "purge.log"

    def runs() -> int:
        return log.read_text().count("purged order.idempotency_keys: ") if log.exists() else 0

    deadline = time.monotonic() + 120
    try:
        while runs() < 2 and time.monotonic() < deadline:
            purge.tick()
            time.sleep(0.1)
    finally:
        purge.stop()

    assert runs() >= 2
    assert capsys.readouterr().out == ""  # a run that worked says nothing on the console


def test_a_bad_purge_interval_is_one_clear_line(monkeypatch, capsys):
    monkeypatch.setenv("SALESYNC_PURGE_INTERVAL", "hourly")

    assert local_run.purge_interval() is None
    assert capsys.readouterr().out.splitlines() == [
        "[salesync] configuration error: SALESYNC_PURGE_INTERVAL must be an integer, not 'hourly'"]
