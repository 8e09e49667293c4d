"""Do compose, the Kubernetes objects, the Dockerfiles and the code agree? Ports, service names,
environment variables, health paths, worker processes and migrations.

Each function returns a list of problems (empty when all agree), so a test can show it on a
deliberately broken copy as well as on the real files.
"""
from __future__ import annotations

import re
import shlex
import urllib.parse

from salesync_common import roster
from salesync_common.kafka_client import CONSULTING_TOPIC
from salesync_common.roster import Service

from .code_facts import CodeFacts
from .layout import CONTAINER_PORT, NAMESPACE, PUBLIC, SERVICE_PORT
from .manifests import pod_spec

# Variables the deployment sets that no Python of ours reads, and who reads them instead.
READ_BY_RUNTIME = {
    "PORT": "the image's gunicorn command (--bind)",
    "GUNICORN_WORKERS": "the image's gunicorn command (--workers)",
    "GUNICORN_THREADS": "the image's gunicorn command (--threads)",
    "PATH": "the shell",
    "PYTHONUNBUFFERED": "Python",
    "PYTHONDONTWRITEBYTECODE": "Python",
    "AWS_ACCESS_KEY_ID": "boto3's credential chain",
    "AWS_SECRET_ACCESS_KEY": "boto3's credential chain",
}
MIGRATE_MODULE = "salesync_common.migrate"
LIVENESS_MODULE = "salesync_common.liveness"
LIVENESS_ARGUMENTS = 2  # <file> <seconds>


def _python_module(command) -> tuple[str, list[str]] | None:
    """('module', [args]) for `python -m module args...`, else None."""
    if not command:
        return None
    parts = shlex.split(command) if isinstance(command, str) else list(command)
    match parts:
        case ["python" | "python3", "-m", module, *arguments]:
            return module, arguments
    return None


def _unknown_env(names, where: str, facts: CodeFacts) -> list[str]:
    return [f"{where}: sets {name}, which neither the code nor the runtime reads"
            for name in sorted(names) if name not in facts.env_read and name not in READ_BY_RUNTIME]


def _worker_liveness(command, env: dict[str, str], where: str) -> list[str]:
    """A worker serves no HTTP: its check is `python -m salesync_common.liveness <file> <seconds>`
    on the file it touches (SALESYNC_LIVENESS_FILE)."""
    command = [str(part) for part in command or []]
    if LIVENESS_MODULE not in command:
        return [f"{where}: no liveness check (python -m {LIVENESS_MODULE} <file> <seconds>)"]
    arguments = command[command.index(LIVENESS_MODULE) + 1:]
    touched = env.get("SALESYNC_LIVENESS_FILE")
    if not touched or arguments[:1] != [touched] or len(arguments) != LIVENESS_ARGUMENTS:
        return [f"{where}: the liveness check reads {arguments[:1]}, but the process touches "
                f"SALESYNC_LIVENESS_FILE={touched!r}"]
    return []


def _database_problems(deployable: Service, names, where: str, facts: CodeFacts) -> list[str]:
    own = {"DATABASE_URL", f"{deployable.name.upper()}_DATABASE_URL"}
    others = {f"{service.upper()}_DATABASE_URL" for service in facts.local_ports} - own
    problems = [f"{where}: gets another service's database ({name})" for name in sorted(set(names) & others)]
    if deployable.name in facts.schemas and not own & set(names):
        problems.append(f"{where}: no database URL (DATABASE_URL or {deployable.name.upper()}_DATABASE_URL)")
    return problems


def _process_kind(module_and_args, deployable: Service, facts: CodeFacts, where: str):
    """'web', 'migration' or 'worker' for a process of this image; problems when the command fits none."""
    if module_and_args is None:
        return "web", []
    module, args = module_and_args
    if module == MIGRATE_MODULE:
        if args != [deployable.name] or deployable.name not in facts.migrated_services:
            return "migration", [f"{where}: migrates {args}, but the image holds the "
                                 f"{deployable.name} service's migrations"]
        return "migration", []
    if module in facts.worker_modules.values():
        if module.split(".")[0] != deployable.package:
            return "worker", [f"{where}: runs {module} from the image of {deployable.package}"]
        return "worker", []
    return "unknown", [f"{where}: runs {module}, which is neither a worker, the migrations nor the web app"]


# --------------------------------------------------------------------------------------------- compose

def _compose_deployable(service: dict) -> Service | None:
    """The roster service whose image this compose service builds or runs (one builds it, the others name it)."""
    build = service.get("build")
    if isinstance(build, dict):
        return next((entry for entry in roster.SERVICES if entry.dockerfile == build.get("dockerfile")), None)
    return _image_deployable(service["image"]) if service.get("image") else None


def compose_url(value: str) -> urllib.parse.SplitResult:
    """A URL from the compose file, its `${VAR:?message}` interpolations set aside: their `?` and `:`
    would otherwise cut the URL short and make the user name look like the host."""
    return urllib.parse.urlsplit(re.sub(r"\$\{[^}]*\}", "interpolated", value))


def _compose_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def compose_problems(compose: dict, facts: CodeFacts) -> list[str]:
    problems = []
    services = compose.get("services") or {}
    web, migrations, workers = {}, {}, {}
    for name, service in services.items():
        if service.get("ports") and name != PUBLIC:
            problems.append(f"compose {name}: publishes {service['ports']}; only the BFF is published")
        deployable = _compose_deployable(service)
        if deployable is None:
            continue
        where = f"compose {name}"
        env = _compose_env(service)
        kind, found = _process_kind(_python_module(service.get("command")), deployable, facts, where)
        problems += found
        problems += _unknown_env(env, where, facts)
        if kind == "web":
            web[name] = deployable
            problems += _compose_web(name, service, deployable, facts)
        elif kind == "migration":
            migrations[deployable.name] = name
        elif kind == "worker":
            workers[_python_module(service["command"])[0]] = name
            problems += _worker_liveness((service.get("healthcheck") or {}).get("test"), env, where)
        problems += _compose_service_env(deployable, kind, env, services, facts, where=where)
    return problems + _compose_roster(services, web, migrations, workers, facts)


def _compose_web(name: str, service: dict, deployable: Service, facts: CodeFacts) -> list[str]:
    """A web service: named as the service URLs expect, with an HTTP health check the app answers."""
    where = f"compose {name}"
    problems = []
    if name != deployable.name:
        problems.append(f"compose {name}: runs {deployable.package}; name it {deployable.name} "
                        f"so that {deployable.name.upper()}_SERVICE_URL=http://{deployable.name}:"
                        f"{CONTAINER_PORT} reaches it")
    test = " ".join(map(str, (service.get("healthcheck") or {}).get("test") or []))
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", test)
    if not match:
        problems.append(f"{where}: no HTTP health check")
    elif int(match.group(1)) != CONTAINER_PORT or match.group(2) not in facts.health_routes:
        problems.append(f"{where}: health check on :{match.group(1)}{match.group(2)}, but the app "
                        f"answers {sorted(facts.health_routes)} on :{CONTAINER_PORT}")
    return problems


def _compose_service_env(deployable: Service, kind: str, env: dict[str, str], services: dict, facts: CodeFacts, *,
                         where: str) -> list[str]:
    """Any process of our images: production, a JWT secret, its own database; a web app or a worker
    also the other services' URLs and Kafka."""
    problems = []
    if env.get("SALESYNC_ENV") not in (None, "production"):
        problems.append(f"{where}: SALESYNC_ENV={env['SALESYNC_ENV']}, the images run as production")
    for secret in ("SALESYNC_JWT_SECRET", "SALESYNC_SERVICE_SECRET"):
        if secret not in env:
            problems.append(f"{where}: no {secret}")
    problems += _database_problems(deployable, env, where, facts)
    for variable in ("DATABASE_URL", f"{deployable.name.upper()}_DATABASE_URL"):
        host = compose_url(env.get(variable, "")).hostname
        if variable in env and host not in services:
            problems.append(f"{where}: {variable} points at {host}, which is not a compose service")
    if kind in ("web", "worker"):
        problems += _compose_urls(env, services, where, facts)
        kafka = env.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not kafka or any(server.split(":")[0] not in services for server in kafka.split(",")):
            problems.append(f"{where}: KAFKA_BOOTSTRAP_SERVERS={kafka!r} names no compose service")
    return problems


def _compose_roster(services: dict, web: dict, migrations: dict, workers: dict, facts: CodeFacts) -> list[str]:
    """The whole file against the roster: every web service, migration and worker there, in order."""
    problems = []
    for service in facts.local_ports:
        if service not in web or web[service].name != service:
            problems.append(f"compose: no web service named {service} running {roster.BY_NAME[service].package}")
    for service in facts.migrated_services:
        if service not in migrations:
            problems.append(f"compose: nothing runs `python -m {MIGRATE_MODULE} {service}`")
        elif service in web or service in services:
            condition = ((services.get(service, {}).get("depends_on") or {}).get(migrations[service]) or {})
            if condition.get("condition") != "service_completed_successfully":
                problems.append(f"compose {service}: does not wait for {migrations[service]} to complete")
    for name, module in facts.worker_modules.items():
        if workers.get(module) != name:
            problems.append(f"compose: no service {name} running `python -m {module}` (as make run does)")
    problems += _compose_ports(services, facts)
    problems += _compose_topic(services)
    public = services.get(PUBLIC, {})
    for service in facts.local_ports:
        if service != PUBLIC and ((public.get("depends_on") or {}).get(service) or {}).get("condition") != \
                "service_healthy":
            problems.append(f"compose {PUBLIC}: does not wait for {service} to be healthy")
    return problems


def _compose_urls(env, services, where, facts: CodeFacts) -> list[str]:
    problems = []
    for service in facts.local_ports:
        variable = f"{service.upper()}_SERVICE_URL"
        url = urllib.parse.urlsplit(env.get(variable, ""))
        if variable not in env:
            problems.append(f"{where}: no {variable}")
        elif url.hostname != service or url.port != CONTAINER_PORT or url.hostname not in services:
            problems.append(f"{where}: {variable}={env[variable]}, expected http://{service}:{CONTAINER_PORT}")
    return problems


def _compose_ports(services, facts: CodeFacts) -> list[str]:
    ports = (services.get(PUBLIC) or {}).get("ports") or []
    expected = f"{facts.local_ports[PUBLIC]}:{CONTAINER_PORT}"
    if len(ports) != 1 or not str(ports[0]).endswith(expected):
        return [f"compose {PUBLIC}: publishes {ports}, expected one port ending {expected} (its roster port)"]
    return []


def _compose_topic(services) -> list[str]:
    for service in services.values():
        command = " ".join(map(str, service.get("command") or []))
        if "kafka-topics" in command and "--create" in command and f"--topic {CONSULTING_TOPIC}" in command:
            return []
    return [f"compose: no one-shot service creates the Kafka topic {CONSULTING_TOPIC}"]


# ------------------------------------------------------------------------------------------ kubernetes

def _image_deployable(image: str) -> Service | None:
    name = image.rsplit("/", maxsplit=1)[-1].split(":", maxsplit=1)[0]
    return next((service for service in roster.SERVICES if service.image == name), None)


def k8s_problems(objects, facts: CodeFacts) -> list[str]:
    """The objects of one rendered environment against the code (dev and prod alike)."""
    problems = []
    config = {obj["metadata"]["name"]: obj.get("data") or {} for obj in objects if obj["kind"] == "ConfigMap"}
    services = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Service"}
    namespace = NAMESPACE  # every object's (test_pod_security.py), so the service URLs name it
    deployments = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Deployment"}
    migrations, workers = {}, {}

    for obj in objects:
        if obj["kind"] == "Secret":
            problems.append(f"Secret/{obj['metadata']['name']}: Secrets are created by hand, never committed")
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        for container in pod_spec(obj)["containers"]:
            deployable = _image_deployable(container["image"])
            if deployable is None:
                continue
            problems += _k8s_container(obj, container, deployable, config=config, services=services,
                                       namespace=namespace, facts=facts, migrations=migrations, workers=workers)
    return problems + _k8s_roster(deployments, services, migrations, workers, facts) + scrape_problems(objects, facts)


def scrape_problems(objects, facts: CodeFacts) -> list[str]:
    """kube-prometheus-stack scrapes what a PodMonitor selects: every web Deployment of ours is
    selected by one, on a named container port that is the app's, at the app's metrics route."""
    monitors = [obj for obj in objects if obj["kind"] == "PodMonitor"]
    problems = []
    for obj in objects:
        if obj["kind"] != "Deployment" or not any(
                (deployable := _image_deployable(container["image"])) and obj["metadata"]["name"] == deployable.deploy
                for container in pod_spec(obj)["containers"]):
            continue
        labels = obj["spec"]["template"]["metadata"].get("labels") or {}
        ports = {port.get("name"): port["containerPort"] for container in pod_spec(obj)["containers"]
                 for port in container.get("ports") or []}
        endpoints = [endpoint for monitor in monitors
                     if all(labels.get(key) == value
                            for key, value in monitor["spec"]["selector"].get("matchLabels", {}).items())
                     for endpoint in monitor["spec"]["podMetricsEndpoints"]]
        if not any(ports.get(endpoint.get("port")) == CONTAINER_PORT and endpoint.get("path") == facts.metrics_route
                   for endpoint in endpoints):
            problems.append(f"Deployment/{obj['metadata']['name']}: no PodMonitor scrapes {facts.metrics_route} "
                            f"on its port {CONTAINER_PORT} (found {endpoints})")
    return problems


def _k8s_container(obj, container, deployable: Service, *, config, services, namespace: str, facts: CodeFacts,
                   migrations: dict, workers: dict) -> list[str]:
    """One container of our images; notes a migration Job in `migrations` and a worker in `workers`."""
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    kind, problems = _process_kind(_python_module(container.get("command")), deployable, facts, where)
    env = _container_env(container, config, where, problems)
    problems += _unknown_env(env, where, facts)
    problems += _database_problems(deployable, env, where, facts)
    for name, source in env.items():
        secret_like = re.search(r"SECRET|PASSWORD|API_KEY|DATABASE_URL", name)
        if secret_like and source[0] != "secret":
            problems.append(f"{where}: {name} must come from a Secret, not a {source[0]}")
    for secret in ("SALESYNC_JWT_SECRET", "SALESYNC_SERVICE_SECRET"):
        if secret not in env:
            problems.append(f"{where}: no {secret}")
    if env.get("SALESYNC_ENV", ("image", "production"))[1] != "production":
        problems.append(f"{where}: SALESYNC_ENV is not production")
    if kind == "web":
        problems += _web_container(obj, container, deployable, env, services=services, facts=facts)
    if kind in ("web", "worker"):
        problems += _k8s_urls(env, services, namespace, where, facts)
        if not env.get("KAFKA_BOOTSTRAP_SERVERS", (None, ""))[1]:
            problems.append(f"{where}: no KAFKA_BOOTSTRAP_SERVERS")
    if kind == "migration":
        migrations[deployable.name] = obj
    if kind == "worker":
        workers[obj["metadata"]["name"]] = _python_module(container["command"])[0]
        probe = ((container.get("livenessProbe") or {}).get("exec") or {}).get("command")
        problems += _worker_liveness(probe, {name: value for name, (_, value) in env.items()}, where)
    return problems


def _k8s_roster(deployments: dict, services: dict, migrations: dict, workers: dict, facts: CodeFacts) -> list[str]:
    """The environment against the roster: a Deployment and a Service per service, the Jobs and the workers."""
    problems = []
    for deployable in roster.SERVICES:
        if deployable.deploy not in deployments:
            problems.append(f"no Deployment {deployable.deploy} for {deployable.package}")
        if deployable.k8s_service not in services:
            problems.append(f"no Service {deployable.k8s_service} for {deployable.package}")
    for service in facts.migrated_services:
        if service not in migrations or migrations[service]["kind"] != "Job":
            problems.append(f"no Job runs `python -m {MIGRATE_MODULE} {service}`")
    for worker in roster.WORKERS:
        if workers.get(worker.deployment) != worker.module:
            problems.append(f"no Deployment {worker.deployment} running `python -m {worker.module}`")
    for module in set(facts.worker_modules.values()) - set(workers.values()):
        problems.append(f"no Deployment runs the worker process `python -m {module}`")
    return problems


def k8s_env_names(objects) -> set[str]:
    """Every variable the environment's containers of our images get (env and envFrom)."""
    config = {obj["metadata"]["name"]: obj.get("data") or {} for obj in objects if obj["kind"] == "ConfigMap"}
    names = set()
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            for container in pod_spec(obj)["containers"]:
                if _image_deployable(container["image"]) is not None:
                    names |= set(_container_env(container, config, "", []))
    return names


def _container_env(container, config, where, problems) -> dict[str, tuple[str, str]]:
    """name -> (source, value) with source 'value', 'configmap' or 'secret'."""
    env = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config:
                problems.append(f"{where}: envFrom ConfigMap {name}, which the overlay does not define")
            env.update({key: ("configmap", value) for key, value in config.get(name, {}).items()})
        elif "secretRef" in source:
            problems.append(f"{where}: envFrom a whole Secret; name each key (secretKeyRef) instead")
    for item in container.get("env") or []:
        reference = item.get("valueFrom") or {}
        if "secretKeyRef" in reference:
            env[item["name"]] = ("secret", reference["secretKeyRef"]["name"])
        elif "configMapKeyRef" in reference:
            key = reference["configMapKeyRef"]
            env[item["name"]] = ("configmap", config.get(key["name"], {}).get(key["key"], ""))
        else:
            env[item["name"]] = ("value", str(item.get("value", "")))
    return env


def _web_container(obj, container, deployable: Service, env, *, services, facts: CodeFacts) -> list[str]:
    where = f"Deployment/{obj['metadata']['name']}"
    problems = []
    if obj["metadata"]["name"] != deployable.deploy:
        problems.append(f"{where}: runs the web app of {deployable.package}; name it {deployable.deploy}")
    ports = {port.get("name"): port["containerPort"] for port in container.get("ports") or []}
    if set(ports.values()) != {CONTAINER_PORT}:
        problems.append(f"{where}: container ports {sorted(ports.values())}, the image serves {CONTAINER_PORT}")
    if "PORT" in env and env["PORT"][1] != str(CONTAINER_PORT):
        problems.append(f"{where}: PORT={env['PORT'][1]}, but the container port is {CONTAINER_PORT}")
    probes = {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for probe, path in probes.items():
        get = (container.get(probe) or {}).get("httpGet") or {}
        port = ports.get(get.get("port"), get.get("port"))
        if get.get("path") != path or path not in facts.health_routes or port != CONTAINER_PORT:
            problems.append(f"{where}: {probe} is {get or 'missing'}, expected GET {path} on {CONTAINER_PORT}")
    startup = ((container.get("startupProbe") or {}).get("httpGet") or {}).get("path")
    if startup is not None and startup not in facts.health_routes:
        problems.append(f"{where}: startupProbe on {startup}, which the app does not answer")
    service = services.get(deployable.k8s_service)
    if service is not None:
        labels = obj["spec"]["template"]["metadata"].get("labels") or {}
        selector = service["spec"].get("selector") or {}
        if not selector or any(labels.get(key) != value for key, value in selector.items()):
            problems.append(f"Service/{deployable.k8s_service}: selector {selector} does not select {where}")
        for port in service["spec"].get("ports") or []:
            target = ports.get(port.get("targetPort"), port.get("targetPort"))
            if port.get("port") != SERVICE_PORT or target != CONTAINER_PORT:
                problems.append(f"Service/{deployable.k8s_service}: port {port.get('port')} -> "
                                f"{port.get('targetPort')}, expected {SERVICE_PORT} -> {CONTAINER_PORT}")
    return problems


def _k8s_urls(env, services, namespace, where, facts: CodeFacts) -> list[str]:
    problems = []
    for service in facts.local_ports:
        variable = f"{service.upper()}_SERVICE_URL"
        deployable = roster.BY_NAME[service]
        expected = f"http://{deployable.k8s_service}.{namespace}.svc.cluster.local"
        value = env.get(variable, (None, None))[1]
        if value is None:
            problems.append(f"{where}: no {variable}")
        elif value.rstrip("/") != expected:
            problems.append(f"{where}: {variable}={value}, expected {expected}")
        elif deployable.k8s_service not in services:
            problems.append(f"{where}: {variable} names Service {deployable.k8s_service}, which does not exist")
    return problems


# ----------------------------------------------------------------------------------------- Dockerfiles

def dockerfile_problems(deployable: Service, text: str, facts: CodeFacts) -> list[str]:
    where = deployable.dockerfile
    problems = []
    parsed = instructions(text)
    env = {}
    for keyword, argument in parsed:
        if keyword == "ENV":
            env.update(_env_pairs(argument))
    problems += _unknown_env(env, where, facts)
    if env.get("PORT") != str(CONTAINER_PORT):
        problems.append(f"{where}: PORT={env.get('PORT')}, expected {CONTAINER_PORT}")
    exposed = [argument for keyword, argument in parsed if keyword == "EXPOSE"]
    if exposed != [str(CONTAINER_PORT)]:
        problems.append(f"{where}: EXPOSE {exposed}, expected [{CONTAINER_PORT}]")
    health = " ".join(argument for keyword, argument in parsed if keyword == "HEALTHCHECK")
    if not any(route == "/healthz" and route in health for route in facts.health_routes):
        problems.append(f"{where}: HEALTHCHECK does not GET /healthz")
    copies = [argument.split() for keyword, argument in parsed if keyword == "COPY"]
    for package in (deployable.package, "salesync_common"):
        if [f"{package}/", f"{package}/"] not in copies:
            problems.append(f"{where}: does not COPY {package}/")
    command = " ".join(argument for keyword, argument in parsed if keyword == "CMD")
    if deployable.wsgi not in command:
        problems.append(f"{where}: CMD does not serve {deployable.wsgi}")
    for variable in ("PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS"):
        if "${" + variable + "}" not in command:
            problems.append(f"{where}: CMD does not take {variable} from the environment")
    return problems


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, argument) per instruction, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        logical.append(current.strip())
        current = ""
    if current:
        logical.append(current.strip())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical]


def _env_pairs(argument: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(argument) if "=" in part)
