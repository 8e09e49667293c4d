"""The whole system over real HTTP on loopback for the sweeps: the BFF in front of all six services.

The services come from testsupport.fixtures' session fixtures; the BFF is served here. Nothing is
mocked; no AWS credentials are visible while a sweep runs, so a settlement is recorded, not sent, and
boto3 looks up no instance metadata.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from testsupport.served import serve_service

from .support import DOC_NOTES, REQUESTS

# Hypothesis keeps caches (constants, unicode data) in ./.hypothesis; keep them out of the work tree.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="salesync-sweeps-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)

AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                            "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
                            "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SNS")


@pytest.fixture(scope="module")
def no_aws(tmp_path_factory):
    """For one sweep module: boto3 finds no credentials anywhere and never asks the instance metadata."""
    patch = pytest.MonkeyPatch()
    empty = tmp_path_factory.mktemp("no-aws")
    for name in AWS_CREDENTIAL_VARIABLES:
        patch.delenv(name, raising=False)
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    patch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
    patch.undo()


@pytest.fixture(scope="session")
def bff_served(store_service, item_service, order_service, sale_service, dashboard_service, consulting_service):
    """The BFF over HTTP, calling every real service.

    Without bulkheads: the quota races (ten presses at once) must reach the services all at once;
    bff/tests/test_bulkheads.py tests the bulkheads themselves."""
    served = serve_service("bff", None, overrides={"bulkhead_slots": {}}, store=store_service, item=item_service,
                           order=order_service, sale=sale_service, dashboard=dashboard_service,
                           consulting=consulting_service)
    yield served
    served.shutdown()


@pytest.fixture(scope="session")
def dashboard_app(dashboard_service):
    """The dashboard service's Flask app (served in this process), for storing a consulting result."""
    return dashboard_service.server.app


def pytest_terminal_summary(terminalreporter):
    if REQUESTS:
        terminalreporter.section("sweeps: requests sent to the BFF")
        for name, count in sorted(REQUESTS.items()):
            terminalreporter.write_line(f"{name}: {count}")
        terminalreporter.write_line(f"total: {sum(REQUESTS.values())}")
    if DOC_NOTES:
        terminalreporter.section("sweeps: where the OpenAPI document and the services disagree (not failures)")
        for note in sorted(DOC_NOTES.values()):
            terminalreporter.write_line(note)
