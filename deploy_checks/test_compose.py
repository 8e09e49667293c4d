"""docker-compose.yml: the Compose Specification's schema, and .env.example beside it."""
from __future__ import annotations

import re

from deploy_checks.layout import COMPOSE_FILE, ENV_EXAMPLE, load_yaml, run_tool


def compose_schema(path):
    return run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", path)


def test_compose_file_follows_the_compose_specification():
    result = compose_schema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_fails_a_broken_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace(
        "      migrate-store: {condition: service_completed_successfully}",
        "      migrate-store: {condition: when_it_feels_like_it}").replace(
        "    restart: unless-stopped\n", "    restart: unless-stopped\n    replicas: two\n", 1))
    result = compose_schema(broken)
    assert result.returncode != 0
    assert "when_it_feels_like_it" in result.stdout


def variables_used(compose_text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose_text))


def env_example_problems(example_text: str, compose_text: str) -> list[str]:
    """Every setting compose reads is in .env.example, and nothing there is a real secret."""
    values = dict(line.split("=", 1) for line in example_text.splitlines()
                  if line.strip() and not line.startswith("#"))
    problems = [f"{name} is used by docker-compose.yml but missing from .env.example"
                for name in sorted(variables_used(compose_text) - set(values))]
    for name, value in values.items():
        if not re.search(r"SECRET|PASSWORD|KEY", name):
            continue
        if value and not re.search(r"change-me|replace-with", value):
            problems.append(f"{name} holds a value that looks real; leave it empty or a placeholder")
    return problems


def test_env_example_lists_every_setting_and_no_real_secret():
    assert env_example_problems(ENV_EXAMPLE.read_text(), COMPOSE_FILE.read_text()) == []


def test_env_example_check_catches_a_real_key_and_a_missing_setting():
    example = ENV_EXAMPLE.read_text().replace("OPENAI_API_KEY=\n", "OPENAI_API_KEY=sk-live-abc123\n")
    example = "\n".join(line for line in example.splitlines() if not line.startswith("POSTGRES_PASSWORD="))
    assert env_example_problems(example, COMPOSE_FILE.read_text()) == [
        "POSTGRES_PASSWORD is used by docker-compose.yml but missing from .env.example",
        "OPENAI_API_KEY holds a value that looks real; leave it empty or a placeholder",
    ]


def test_required_secrets_stop_compose_with_a_message_when_unset():
    compose = load_yaml(COMPOSE_FILE)
    env = compose["services"]["store"]["environment"]
    assert env["SALESYNC_JWT_SECRET"].startswith("${SALESYNC_JWT_SECRET:?")
    assert env["SALESYNC_SERVICE_SECRET"].startswith("${SALESYNC_SERVICE_SECRET:?")
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
