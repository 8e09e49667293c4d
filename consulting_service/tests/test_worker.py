"""The worker as its own process (`python -m consulting_service.worker`): results reach the topic well within
a second, a job a killed worker left is finished by the next one, SIGTERM stops it cleanly."""
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid

import psycopg2
import pytest
from kafka import TopicPartition
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from consulting_service import worker as worker_process
from consulting_service.app import create_app, outbox
from consulting_service.app.models import ConsultingJob, db
from salesync_common.kafka_client import CONSULTING_TOPIC, new_consumer
from salesync_common.liveness import Liveness, is_fresh
from salesync_common.migrate import REPO_ROOT
from testsupport.postgres import libpq_url
from testsupport.settings import TEST_JWT_SECRET, migrated_settings


class WorkerProcess:
    def __init__(self, database_url, broker, services, **env):
        full_env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
        full_env.update(DATABASE_URL=database_url, SALESYNC_JWT_SECRET=TEST_JWT_SECRET, PYTHONPATH=str(REPO_ROOT),
                        KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers,
                        **{f"{name.upper()}_SERVICE_URL": url for name, url in services.items()},
                        SALESYNC_LOG_LEVEL="INFO", **env)
        self.process = subprocess.Popen([sys.executable, "-m", "consulting_service.worker"], cwd=REPO_ROOT,
                                        env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        assert self.wait_for_log("consulting worker started"), self.lines

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_log(self, text, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if self.process.poll() is not None:
                self.reader.join(timeout=2)
                return any(text in line for line in self.lines)
            time.sleep(0.02)
        return False

    def terminate(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def worker(database_url, kafka_broker, order_service, sale_service, item_service):
    started = []
    services = {"order": order_service.url, "sale": sale_service.url, "item": item_service.url}

    def _start(broker=kafka_broker, **env):
        started.append(WorkerProcess(database_url, broker, services, **env))
        return started[-1]

    yield _start
    for process in started:
        process.kill()


def eventually(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


class TopicWatcher:
    """A plain consumer at the end of the consulting topic, waiting for one key."""

    def __init__(self, broker):
        self.consumer = new_consumer(broker.bootstrap_servers)
        self.partition = TopicPartition(CONSULTING_TOPIC, 0)
        self.consumer.assign([self.partition])
        self.consumer.seek_to_end(self.partition)
        self.consumer.position(self.partition)

    def wait_for(self, key, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=20).values():
                for record in records:
                    if record.key == key.encode():
                        return record
        raise AssertionError(f"{key} did not reach the topic in {timeout} s")

    def close(self):
        self.consumer.close()


def test_results_reach_the_topic_well_within_a_second_and_sigterm_stops_the_worker(client, shop, kafka_broker,
                                                                                   worker):
    process = worker()
    watcher = TopicWatcher(kafka_broker)
    latencies = []
    try:
        for _ in range(5):
            began = time.monotonic()
            req_id = client.get(f"/consulting/test?start={shop.today}&end={shop.today}",
                                headers=shop.headers).get_json()["req_id"]
            record = watcher.wait_for(req_id)
            latencies.append(time.monotonic() - began)
            assert json.loads(record.value)["source"] == "rule_based"
            # The relay marks the row sent just after the broker's acknowledgement.
            assert eventually(lambda req_id=req_id: client.get(f"/consulting/test/{req_id}",
                                                               headers=shop.headers).get_json()["result"] == "success")
    finally:
        watcher.close()

    print(f"\nrequest -> message on the topic through the worker process: "
          f"median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
          f"({', '.join(f'{latency * 1000:.0f}' for latency in latencies)} ms)")
    assert max(latencies) < 1.0
    began = time.monotonic()
    assert process.terminate() == 0
    assert time.monotonic() - began < 5
    assert any("consulting worker stopped" in line for line in process.lines)
    logged = [json.loads(line) for line in process.lines if line.strip()]  # every line is JSON
    assert {line["service"] for line in logged} == {"consulting-worker"}


def test_a_job_left_by_a_killed_worker_is_finished_by_the_next_one(client, shop, sessions, worker, fake_openai):
    fake_openai.behaviour = "slow"
    fake_openai.delay = 30
    model = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_MAX_RETRIES": "0",
             "CONSULTING_LEASE_SECONDS": "1"}
    first = worker(**model)
    req_id = client.get(f"/consulting/?start={shop.today}&end={shop.today}", headers=shop.headers).get_json()["req_id"]
    assert eventually(lambda: fake_openai.requests, timeout=10), "the first worker never asked the model"

    first.kill()  # mid-job: the model has not answered
    fake_openai.behaviour = "answer"
    worker(**model)

    def job():
        with sessions() as session:
            return session.scalar(select(ConsultingJob).where(ConsultingJob.req_id == uuid.UUID(req_id)))

    assert eventually(lambda: job().status == "success", timeout=10)
    assert (job().source, job().attempts) == ("openai", 2)
    assert len(fake_openai.requests) == 2


def test_a_worker_whose_relay_is_stuck_stops_touching_its_liveness_file(database_url, sessions, store_data_client,
                                                                       kafka_broker, tmp_path, monkeypatch):
    monkeypatch.setattr(worker_process, "RELAY_STUCK_SECONDS", 1.0)
    # A lock wait longer than the 2 s default, so the relay stays stuck for the whole test's lock.
    patient = create_app(migrated_settings("consulting", database_url, db_lock_timeout_ms=10_000))
    with patient.app_context():
        sessions = sessionmaker(db.engine, expire_on_commit=False)
    alive = tmp_path / "alive"
    running = worker_process.Worker(session_factory=sessions, client=store_data_client, jwt_secret=TEST_JWT_SECRET,
                                    model=None, publisher=outbox.Publisher(kafka_broker.bootstrap_servers),
                                    lease=datetime.timedelta(seconds=60), liveness=Liveness(alive))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        assert eventually(lambda: is_fresh(alive, 2), timeout=10)
        # The relay waits on a table lock (up to its lock_timeout, 10 s here); the job loops go on.
        with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
            cursor.execute("LOCK TABLE consulting.outbox IN ACCESS EXCLUSIVE MODE")
            time.sleep(3.5)
            assert not is_fresh(alive, 2)
        assert eventually(lambda: is_fresh(alive, 2), timeout=10)
    finally:
        running.stop()
        thread.join(timeout=15)



def test_an_idle_worker_looks_for_jobs_less_and_less_often_and_a_job_brings_it_back():
    looks, waiting = [], []

    class CountingWorker(worker_process.Worker):
        def work_one_job(self):  # the loop's step, without a database: a job whenever one is waiting
            looks.append(time.monotonic())
            return waiting.pop() if waiting else None

    running = CountingWorker(session_factory=None, client=None, jwt_secret=TEST_JWT_SECRET, model=None,
                             publisher=None, lease=datetime.timedelta(seconds=60), job_threads=1,
                             idle_seconds=0.05, idle_max_seconds=0.4)
    thread = threading.Thread(target=running.work_jobs, daemon=True)
    thread.start()
    try:
        time.sleep(2.0)
        # 0.05, 0.1, 0.2, then 0.4 s apart: about 7 looks in 2 s, where a steady 0.05 s would be 40.
        assert 4 <= len(looks) <= 9, len(looks)
        gaps = [later - earlier for earlier, later in zip(looks, looks[1:], strict=False)]
        assert gaps[-1] > 0.3 and max(gaps) < 0.4 + 0.2, gaps
        waiting.append(object())
        arrived = time.monotonic()
        assert eventually(lambda: not waiting, timeout=2)
        assert looks[-1] - arrived < 0.4 + 0.1
        # Having found a job it looks again at once, and then at the shortest pause.
        time.sleep(0.3)
        after = [look for look in looks if look > arrived]
        assert len(after) >= 3 and after[2] - after[1] < 0.05 + 0.1, after
    finally:
        running.stop()
        thread.join(timeout=10)


@pytest.mark.parametrize("idle_max", ["11", "0", "-1"])
def test_an_idle_pause_past_its_cap_stops_the_worker_at_boot_naming_the_setting(database_url, idle_max):
    """A pause near the liveness probe's 60 s would get an idle worker restarted as stuck; the worker
    refuses to start with one rather than run into that."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(DATABASE_URL=database_url, SALESYNC_JWT_SECRET=TEST_JWT_SECRET, PYTHONPATH=str(REPO_ROOT),
               CONSULTING_IDLE_MAX_SECONDS=idle_max)
    finished = subprocess.run([sys.executable, "-m", "consulting_service.worker"], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert finished.returncode == worker_process.WORKER_BOOT_ERROR, finished.stderr
    assert f"CONSULTING_IDLE_MAX_SECONDS={float(idle_max)}" in finished.stderr
    assert "at most 10" in finished.stderr
