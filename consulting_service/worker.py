"""The consulting worker, its own process: `python -m consulting_service.worker`.

Job threads claim jobs and work them out (jobs.py); one relay thread publishes the outbox
(outbox.py), woken as soon as a job finishes, so a result reaches Kafka well within a second.
A thread that finds nothing to do looks again after 100 ms, then waits twice as long each time
up to CONSULTING_IDLE_MAX_SECONDS (default 0.5): at 100 ms the three threads of an idle worker
kept 5% of a core busy, theirs and PostgreSQL's, on every replica; a job waits at most that long
for an idle worker to notice it. On SIGTERM or SIGINT it stops claiming, gives running
jobs a few seconds, hands back those still running (another worker takes them at once),
publishes what is finished and exits.

Environment, beside the shared settings: OPENAI_API_KEY (unset: rule-based advice),
OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_TIMEOUT_SECONDS, OPENAI_MAX_RETRIES,
CONSULTING_WORKER_THREADS (default 2), CONSULTING_LEASE_SECONDS (default: long enough for
every model try), CONSULTING_IDLE_MAX_SECONDS (default 0.5, at most 10), SALESYNC_LIVENESS_FILE
(touched while every loop goes round; see salesync_common.liveness).
"""
from __future__ import annotations

import datetime
import logging
import os
import signal
import sys
import threading
import time

from sqlalchemy.orm import sessionmaker

from salesync_common.business_day import MAX_PERIOD_DAYS
from salesync_common.liveness import Liveness
from salesync_common.request_log import configure_logging
from salesync_common.settings import ConfigError
from salesync_common.wsgi import WORKER_BOOT_ERROR, build_app

from .app import create_app, jobs, outbox
from .app.advice import ModelSettings, new_model_client
from .app.models import ConsultingJob, db

log = logging.getLogger("consulting_service.worker")

IDLE_SECONDS = 0.1
IDLE_MAX_SECONDS = 0.5
# A longer idle pause would leave a job unnoticed past what anyone waits for, and would come near the
# 60 s after which the liveness probe (k8s, compose) takes an untouched file for a stuck worker.
IDLE_MAX_SECONDS_CAP = 10.0
SHUTDOWN_GRACE_SECONDS = 5.0
ERROR_PAUSE_SECONDS = 1.0
# A relay pass waits for the broker at most outbox.SEND_TIMEOUT_SECONDS per try; far longer is stuck.
RELAY_STUCK_SECONDS = 120.0
# Beyond its lease a job is another worker's to take, so a job loop silent for that long is stuck.
JOB_STUCK_MARGIN_SECONDS = 60.0


def default_lease(model: ModelSettings | None) -> datetime.timedelta:
    """Longer than one job can take: the calls for the figures, then every model try with its backoff."""
    model_seconds = 0 if model is None else (model.timeout + 8) * (model.max_retries + 1)
    return datetime.timedelta(seconds=60 + model_seconds)


class Worker:
    def __init__(self, *, session_factory, client, jwt_secret: str, model: ModelSettings | None,
                 publisher: outbox.Publisher, lease: datetime.timedelta, job_threads: int = 2,
                 idle_seconds: float = IDLE_SECONDS, idle_max_seconds: float = IDLE_MAX_SECONDS,
                 grace_seconds: float = SHUTDOWN_GRACE_SECONDS,
                 liveness: Liveness | None = None, max_days: int = MAX_PERIOD_DAYS):
        self.session_factory = session_factory
        self.client = client
        self.jwt_secret = jwt_secret
        self.model = model
        self.model_client = new_model_client(model) if model is not None else None
        self.publisher = publisher
        self.lease = lease
        self.job_threads = job_threads
        self.idle_seconds = idle_seconds
        self.idle_max_seconds = max(idle_max_seconds, idle_seconds)
        self.grace_seconds = grace_seconds
        self.stopping = threading.Event()
        self.relay_stopping = threading.Event()
        self.results_ready = threading.Event()
        self.claimed: dict[int, ConsultingJob] = {}
        self.claimed_lock = threading.Lock()
        self.liveness = liveness or Liveness(None)
        self.max_days = max_days  # SALESYNC_MAX_REPORT_DAYS: the longest history the services answer

    def stop(self, *_signal) -> None:
        self.stopping.set()

    def run(self) -> None:
        workers = [threading.Thread(target=self.work_jobs, name=f"consulting-jobs-{n}", daemon=True)
                   for n in range(self.job_threads)]
        for thread in workers:
            self.liveness.expect(thread.name, self.lease.total_seconds() + JOB_STUCK_MARGIN_SECONDS)
        self.liveness.expect("consulting-relay", RELAY_STUCK_SECONDS)
        relay = threading.Thread(target=self.relay, name="consulting-relay", daemon=True)
        for thread in [*workers, relay]:
            thread.start()
        log.info("consulting worker started (%s job threads, %s advice)", self.job_threads,
                 "OpenAI" if self.model else "rule-based")
        while not self.stopping.wait(0.5):
            pass
        log.info("consulting worker stopping")
        deadline = time.monotonic() + self.grace_seconds
        for thread in workers:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.hand_back_claimed()
        self.relay_stopping.set()
        self.results_ready.set()
        relay.join(timeout=outbox.SEND_TIMEOUT_SECONDS * 2)
        self.publisher.close()
        if self.model_client is not None:
            self.model_client.close()
        log.info("consulting worker stopped")

    def work_jobs(self) -> None:
        name = threading.current_thread().name
        pause = self.idle_seconds
        while not self.stopping.is_set():
            self.liveness.beat(name)
            try:
                if self.work_one_job() is None:
                    self.stopping.wait(pause)
                    pause = self.next_pause(pause)
                else:
                    pause = self.idle_seconds
            except Exception:
                log.exception("the job loop failed; going on")
                self.stopping.wait(ERROR_PAUSE_SECONDS)

    def work_one_job(self) -> ConsultingJob | None:
        """One step of the job loop: claim the next job, if any, and work it out. Returns the job it took."""
        with self.session_factory() as session:
            job = jobs.claim_next_job(session=session, lease=self.lease)
            if job is None:
                return None
            with self.claimed_lock:
                self.claimed[threading.get_ident()] = job
            try:
                jobs.process_job(session=session, job=job, client=self.client, jwt_secret=self.jwt_secret,
                                 model=self.model, model_client=self.model_client, max_days=self.max_days)
            finally:
                with self.claimed_lock:
                    self.claimed.pop(threading.get_ident(), None)
            self.results_ready.set()
            return job

    def next_pause(self, pause: float) -> float:
        """After another look that found nothing: twice as long, up to idle_max_seconds."""
        return min(pause * 2, self.idle_max_seconds)

    def hand_back_claimed(self) -> None:
        with self.claimed_lock:
            unfinished = list(self.claimed.values())
        for job in unfinished:
            try:
                with self.session_factory() as session:
                    if jobs.release_job(session=session, job=job):
                        log.info("handed consulting job %s back for another worker", job.req_id)
            except Exception:
                log.exception("could not hand consulting job %s back; its lease will run out", job.req_id)

    def relay(self) -> None:
        idle = self.idle_seconds  # how long the next pass waits if nothing wakes it, while nothing is sent
        while True:
            self.liveness.beat("consulting-relay")
            last_pass = self.relay_stopping.is_set()
            self.results_ready.clear()  # a job finishing from here on wakes the next pass at once
            pause = idle
            try:
                with self.session_factory() as session:
                    if outbox.relay_pending(session=session, publisher=self.publisher).sent:
                        pause = 0
            except Exception:
                log.exception("the outbox relay failed; going on")
                pause = ERROR_PAUSE_SECONDS
            if last_pass:
                return
            woken = not pause or self.results_ready.wait(pause)
            idle = self.idle_seconds if woken else self.next_pause(idle)


def main() -> int:
    app = build_app(create_app, "consulting")
    settings = app.extensions["salesync_settings"]
    configure_logging("consulting-worker", settings.log_level)
    try:
        model = ModelSettings.from_env()
        job_threads = int(os.environ.get("CONSULTING_WORKER_THREADS") or 2)
        lease_seconds = os.environ.get("CONSULTING_LEASE_SECONDS")
        lease = datetime.timedelta(seconds=float(lease_seconds)) if lease_seconds else default_lease(model)
        idle_max = float(os.environ.get("CONSULTING_IDLE_MAX_SECONDS") or IDLE_MAX_SECONDS)
        if not 0 < idle_max <= IDLE_MAX_SECONDS_CAP:
            raise ValueError(f"CONSULTING_IDLE_MAX_SECONDS={idle_max}: "
                             f"must be over 0 and at most {IDLE_MAX_SECONDS_CAP:g}")
    except (ConfigError, ValueError) as exc:
        print(f"salesync consulting worker: configuration error: {exc}", file=sys.stderr, flush=True)
        return WORKER_BOOT_ERROR
    with app.app_context():
        engine = db.engine
    worker = Worker(session_factory=sessionmaker(engine, expire_on_commit=False),
                    client=app.extensions["salesync_client"], jwt_secret=settings.jwt_secret, model=model,
                    publisher=outbox.Publisher(settings.kafka_bootstrap_servers), lease=lease,
                    job_threads=max(job_threads, 1), idle_max_seconds=idle_max, liveness=Liveness.from_env(),
                    max_days=settings.max_report_days)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
