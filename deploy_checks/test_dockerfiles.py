"""The seven Dockerfiles: hadolint-clean, one shape, non-root, no secret, gunicorn, health check."""
from __future__ import annotations

import re

import pytest
import yaml

from deploy_checks.agreement import dockerfile_problems, instructions
from deploy_checks.code_facts import code_facts
from deploy_checks.layout import DOCKERIGNORE, HADOLINT_CONFIG, REPO, run_tool
from salesync_common import roster

DOCKERFILES = [REPO / service.dockerfile for service in roster.SERVICES]
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|ACCESS_KEY|DATABASE_URL", re.I)


def hadolint(path):
    return run_tool("hadolint", "--config", HADOLINT_CONFIG, "--no-color", path)


def test_there_is_one_dockerfile_per_service_and_no_other():
    assert sorted(REPO.glob("Dockerfile*")) == sorted(DOCKERFILES)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_finds_nothing(dockerfile):
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_a_careless_dockerfile(tmp_path):
    broken = tmp_path / "Dockerfile-broken"
    broken.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n"
                      "RUN pip install gunicorn\nCMD gunicorn app:app\n")
    result = hadolint(broken)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3013", "DL3025"):
        assert rule in result.stdout


def ignore_problems(config_text: str) -> list[str]:
    """Every rule hadolint is told to ignore needs a comment saying why, on the line above."""
    config = yaml.safe_load(config_text) or {}
    problems = []
    lines = config_text.splitlines()
    for rule in config.get("ignored") or []:
        index = next((i for i, line in enumerate(lines) if re.match(rf"\s*-\s*{rule}\b", line)), None)
        if index is None or index == 0 or not lines[index - 1].strip().startswith("#"):
            problems.append(f"{rule} is ignored without a comment saying why")
    if config.get("failure-threshold") not in ("style", "info"):
        problems.append("failure-threshold lets warnings pass unexplained")
    return problems


def test_every_ignored_hadolint_rule_says_why():
    assert ignore_problems(HADOLINT_CONFIG.read_text()) == []


def test_an_unexplained_ignore_is_caught():
    assert ignore_problems("failure-threshold: style\nignored:\n  - DL3008\n") == \
        ["DL3008 is ignored without a comment saying why"]
    assert ignore_problems("failure-threshold: style\nignored:\n  # no apt here\n  - DL3008\n") == []
    assert ignore_problems("failure-threshold: error\n") == ["failure-threshold lets warnings pass unexplained"]


def shape(text: str, package: str, name: str) -> list[str]:
    """The instructions with this image's names taken out: the same for all seven."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [line.replace(package, "<package>").replace(f"Dockerfile-{name}", "<dockerfile>") for line in lines]


def test_all_dockerfiles_have_one_shape():
    reference = roster.BY_NAME["store"]
    expected = shape((REPO / reference.dockerfile).read_text(), reference.package, reference.deploy)
    for deployable in roster.SERVICES:
        assert shape((REPO / deployable.dockerfile).read_text(), deployable.package, deployable.deploy) == expected, \
            f"{deployable.dockerfile} differs from Dockerfile-store"


def image_problems(text: str) -> list[str]:
    """Multi-stage on a digest-pinned slim Python, non-root, no secret baked in, gunicorn gthread, no migration."""
    return _base_and_user_problems(text) + _secret_problems(text) + _command_problems(text)


def _base_and_user_problems(text: str) -> list[str]:
    problems = []
    bases = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if len(bases) < 2:
        problems.append("not a multi-stage build")
    for base in bases:
        # The moving tag gets Debian's fixes; the digest makes each build repeatable (Dependabot moves it).
        if not re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", base):
            problems.append(f"base image {base} is not python:3.11-slim-bookworm pinned by digest")
    if len(set(bases)) > 1:
        problems.append(f"the stages start from different bases {sorted(set(bases))}")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("runs as root")
    elif not users[-1].split(":")[0].isdigit():
        problems.append("USER is a name; a numeric id lets Kubernetes check runAsNonRoot")
    return problems


def _secret_problems(text: str) -> list[str]:
    return [f"{name} is baked into the image"
            for keyword, argument in instructions(text) if keyword in ("ENV", "ARG")
            for name in re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)", argument)
            if SECRET_NAME.search(name)]


def _command_problems(text: str) -> list[str]:
    cmd = " ".join(re.findall(r"^CMD\s+(.*)$", text, re.M))
    problems = [f"CMD lacks {part}" for part in ("gunicorn", "--worker-class gthread", "--no-control-socket")
                if part not in cmd]
    if "salesync_common.migrate" in cmd:
        problems.append("the web process runs the migrations")
    if not re.search(r"^HEALTHCHECK\s", text, re.M):
        problems.append("no HEALTHCHECK")
    return problems


@pytest.mark.parametrize("deployable", roster.SERVICES, ids=lambda d: d.dockerfile)
def test_image_is_slim_non_root_and_secret_free(deployable):
    assert image_problems((REPO / deployable.dockerfile).read_text()) == []


@pytest.mark.parametrize("deployable", roster.SERVICES, ids=lambda d: d.dockerfile)
def test_image_serves_its_package_on_the_agreed_port(deployable):
    assert dockerfile_problems(deployable, (REPO / deployable.dockerfile).read_text(), code_facts()) == []


def test_image_checks_catch_a_root_image_with_a_baked_secret():
    text = (REPO / roster.BY_NAME["store"].dockerfile).read_text()
    base = re.search(r"^FROM (\S+) AS build$", text, re.M).group(1)
    broken = (text.replace("USER 10001:10001", "USER root")
                  .replace(f"FROM {base} AS build", "FROM python:3.11.7-slim-bookworm AS build")
                  .replace(f"FROM {base} AS runtime", "FROM python:3.11-slim-bookworm AS runtime")
                  .replace("    PORT=5000",
                           "    SALESYNC_JWT_SECRET=hunter2hunter2hunter2hunter2hunter2 \\\n    PORT=8080")
                  .replace("--worker-class gthread ", "")
                  .replace("store_service.wsgi:app", "store_service.app:create_app"))
    assert set(image_problems(broken)) == {
        "base image python:3.11.7-slim-bookworm is not python:3.11-slim-bookworm pinned by digest",
        "base image python:3.11-slim-bookworm is not python:3.11-slim-bookworm pinned by digest",
        "the stages start from different bases ['python:3.11-slim-bookworm', 'python:3.11.7-slim-bookworm']",
        "runs as root", "SALESYNC_JWT_SECRET is baked into the image", "CMD lacks --worker-class gthread"}
    problems = dockerfile_problems(roster.BY_NAME["store"], broken, code_facts())
    assert "Dockerfile-store: PORT=8080, expected 5000" in problems
    assert "Dockerfile-store: CMD does not serve store_service.wsgi:app" in problems


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last matching pattern wins, `!` re-includes, a matched folder covers its files."""
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _glob_regex(pattern.lstrip("!").strip("/"))
        parts = path.split("/")
        if any(regex.fullmatch("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


def _glob_regex(glob: str) -> re.Pattern:
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out)


def dockerignore_problems(text: str) -> list[str]:
    patterns = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    problems = []
    for path in (".env", ".venv/bin/python", ".git/config", ".salesync/jwt-secret", "store_service/tests/test_x.py",
                 "salesync_common/tests/test_x.py", "local_run/__main__.py", "testsupport/fixtures.py",
                 "k8s/base/kustomization.yaml"):
        if not dockerignore_excludes(patterns, path):
            problems.append(f"{path} would be sent to the build")
    for deployable in roster.SERVICES:
        for path in (f"{deployable.package}/wsgi.py", f"{deployable.package}/requirements.txt",
                     "salesync_common/requirements.txt", "salesync_common/settings.py"):
            if dockerignore_excludes(patterns, path):
                problems.append(f"{path} is left out of the build, but {deployable.dockerfile} copies it")
    migrations = REPO / "store_service" / "migrations"
    if migrations.exists() and dockerignore_excludes(patterns, "store_service/migrations/env.py"):
        problems.append("the migrations are left out of the image")
    return problems


def test_dockerignore_sends_only_what_the_images_copy():
    assert dockerignore_problems(DOCKERIGNORE.read_text()) == []


def test_dockerignore_check_catches_a_leaked_env_file_and_a_missing_package():
    broken = DOCKERIGNORE.read_text().replace("*\n", "**/tests\n", 1) + "bff/\n"
    problems = dockerignore_problems(broken)
    assert ".env would be sent to the build" in problems
    assert "bff/wsgi.py is left out of the build, but Dockerfile-bff copies it" in problems
