"""GitHub workflows: the workflow schema, and what each service's release pipeline does."""
from __future__ import annotations

import re

import pytest
import yaml

from deploy_checks.layout import GITHUB, PROD, REPO, WORKFLOWS, load_yaml, run_tool, tool, workflow_trigger
from salesync_common import roster

WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def workflow_schema(*paths):
    return run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *paths)


def test_every_workflow_follows_the_github_workflow_schema():
    result = workflow_schema(*WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_job_has_a_timeout():
    result = run_tool("check-jsonschema", "--builtin-schema", "custom.github-workflows-require-timeout",
                      *WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_schema_check_fails_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "service-store.yml").read_text()
                      .replace("    runs-on: ubuntu-latest\n", "    runs-on: [ubuntu-latest]\n    runs_on: x\n", 1)
                      .replace("    timeout-minutes: 30\n", "    timeout-minutes: half an hour\n", 1))
    result = workflow_schema(broken)
    assert result.returncode != 0
    assert "half an hour" in result.stdout


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps") or []:
            yield job_name, step


def release_problems(workflow: dict, deployable) -> list[str]:
    """Test, build, push to ECR with a version tag via OIDC, then point the prod overlay at the image."""
    runs = {job: " ".join(step.get("run", "") for _, step in steps({"jobs": {job: spec}}))
            for job, spec in workflow["jobs"].items()}
    uses = {job: [step.get("uses", "") for _, step in steps({"jobs": {job: spec}})]
            for job, spec in workflow["jobs"].items()}
    test_job = next((job for job, text in runs.items() if "make test" in text), None)
    image_job = next((job for job, used in uses.items()
                      if any(u.startswith("aws-actions/amazon-ecr-login@") for u in used)), None)
    problems = _trigger_problems(workflow, deployable)
    if test_job is None or f"PYTEST_ARGS={deployable.package}" not in runs[test_job]:
        problems.append(f"does not run `make test PYTEST_ARGS={deployable.package}`")
    if image_job is None:
        problems.append("does not log in to ECR with aws-actions/amazon-ecr-login")
    else:
        problems += _image_job_problems(workflow, image_job, test_job, runs[image_job], deployable)
    deploy = next((job for job, text in runs.items() if "kustomize edit set image" in text), None)
    if deploy is None:
        problems.append("does not `kustomize edit set image`")
    else:
        problems += _deploy_job_problems(workflow, deploy, image_job, runs[deploy], deployable)
    return problems


def _needs(job: dict) -> list:
    return job.get("needs") if isinstance(job.get("needs"), list) else [job.get("needs")]


def _trigger_problems(workflow: dict, deployable) -> list[str]:
    """Released on a push to main that touches the service, its shared package or its Dockerfile."""
    problems = []
    trigger = workflow_trigger(workflow) or {}
    if set(trigger) != {"push"}:
        problems.append(f"triggered by {sorted(trigger)}, expected only push")
    push = trigger.get("push") or {}
    expected_paths = {f"{deployable.package}/**", "salesync_common/**", deployable.dockerfile}
    if set(push.get("paths") or []) != expected_paths:
        problems.append(f"paths {push.get('paths')}, expected {sorted(expected_paths)}")
    if push.get("branches") != ["main"]:
        problems.append("does not release from main alone")
    return problems


def _image_job_problems(workflow: dict, image_job: str, test_job: str | None, build: str, deployable) -> list[str]:
    """After the tests, an AWS role by OIDC, then the service's image built and pushed, tagged with its commit."""
    problems = []
    job = workflow["jobs"][image_job]
    if test_job not in _needs(job):
        problems.append("builds the image without waiting for the tests")
    credentials = next((step for _, step in steps({"jobs": {image_job: job}})
                        if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@")), None)
    role = ((credentials or {}).get("with") or {}).get("role-to-assume", "")
    if not re.fullmatch(r"\$\{\{\s*(secrets|vars)\.\w+\s*\}\}", role):
        problems.append("does not assume an AWS role from repository secrets or variables")
    if (job.get("permissions") or {}).get("id-token") != "write":
        problems.append("the image job cannot get an OIDC token (permissions: id-token: write)")
    if f"-f {deployable.dockerfile}" not in build or "docker push" not in build:
        problems.append(f"does not build {deployable.dockerfile} and push it")
    if not re.search(r":\$\{GITHUB_SHA\}\"|:\$\{\{ github\.sha \}\}", build):
        problems.append("the image tag is not the full commit SHA")
    return problems


def _deploy_job_problems(workflow: dict, deploy: str, image_job: str | None, run: str, deployable) -> list[str]:
    """After the image, the prod overlay of this service pointed at it and committed for Argo CD."""
    problems = []
    overlay = PROD / deployable.deploy
    job = workflow["jobs"][deploy]
    directories = {step.get("working-directory", "") for _, step in steps({"jobs": {deploy: job}})}
    directories = {d.replace("${{ env.OVERLAY }}", workflow.get("env", {}).get("OVERLAY", "")) for d in directories}
    if str(overlay.relative_to(REPO)) not in directories:
        problems.append(f"does not edit {overlay.relative_to(REPO)}")
    if deployable.image != workflow.get("env", {}).get("IMAGE_REPOSITORY"):
        problems.append(f"the image is not named {deployable.image}")
    if "git push" not in run:
        problems.append("does not commit the new image for Argo CD")
    problems += _push_token_problems(job)
    if image_job not in _needs(job):
        problems.append("deploys before the image is pushed")
    return problems


def _push_token_problems(job: dict) -> list[str]:
    """main is protected: the commit goes in with a GitHub App's token (the App is on the protection's
    bypass list), and GITHUB_TOKEN gets no write access."""
    problems = []
    minted = next((step for _, step in steps({"jobs": {"deploy": job}})
                   if step.get("uses", "").startswith("actions/create-github-app-token@")), None)
    pushing = [step for _, step in steps({"jobs": {"deploy": job}}) if "git push" in step.get("run", "")]
    if minted is None or not any(f"steps.{minted.get('id')}.outputs.token" in yaml.safe_dump(step.get("env"))
                                 for step in pushing):
        problems.append("does not push with a GitHub App token (main's branch protection refuses GITHUB_TOKEN)")
    if "write" in (job.get("permissions") or {}).values():
        problems.append(f"GITHUB_TOKEN may write ({job['permissions']}); the App's token pushes")
    return problems


@pytest.mark.parametrize("deployable", roster.SERVICES, ids=lambda d: d.deploy)
def test_each_service_has_a_release_workflow(deployable):
    path = WORKFLOWS / f"service-{deployable.deploy}.yml"
    assert release_problems(load_yaml(path), deployable) == []


def test_release_check_catches_a_workflow_that_deploys_everything_untested():
    store = roster.BY_NAME["store"]
    workflow = load_yaml(WORKFLOWS / "service-store.yml")
    workflow[True]["push"]["paths"].append("**")
    workflow["jobs"]["test"]["steps"][-1]["run"] = "make test"
    workflow["env"]["OVERLAY"] = "k8s/overlays/prod/item"
    del workflow["jobs"]["image"]["permissions"]["id-token"]
    build = workflow["jobs"]["image"]["steps"][-1]
    build["run"] = build["run"].replace(":${GITHUB_SHA}", ":v${GITHUB_RUN_NUMBER}-${GITHUB_SHA::7}")
    deploy = workflow["jobs"]["deploy"]
    deploy["steps"] = [step for step in deploy["steps"] if step.get("id") != "app-token"]
    deploy["permissions"]["contents"] = "write"
    assert release_problems(workflow, store) == [
        "paths ['store_service/**', 'salesync_common/**', 'Dockerfile-store', '**'], expected "
        "['Dockerfile-store', 'salesync_common/**', 'store_service/**']",
        "does not run `make test PYTEST_ARGS=store_service`",
        "the image job cannot get an OIDC token (permissions: id-token: write)",
        "the image tag is not the full commit SHA",
        "does not edit k8s/overlays/prod/store",
        "does not push with a GitHub App token (main's branch protection refuses GITHUB_TOKEN)",
        "GITHUB_TOKEN may write ({'contents': 'write'}); the App's token pushes",
    ]


def test_no_other_workflow_deploys():
    release = {f"service-{d.deploy}.yml" for d in roster.SERVICES}
    others = [path.name for path in WORKFLOW_FILES if path.name not in release]
    assert others == ["pull-request.yml"]


def test_pull_requests_run_make_test_with_the_deploy_checks():
    workflow = load_yaml(WORKFLOWS / "pull-request.yml")
    assert "pull_request" in workflow_trigger(workflow)
    assert any(step.get("run") == "make test" for _, step in steps(workflow))


# `uses: owner/repo@<commit SHA> # vX.Y.Z`: the SHA is what runs (a tag can be moved), the comment
# says which release it is, and Dependabot updates both.
PINNED_USES = re.compile(r"uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def pin_problems(path) -> list[str]:
    return [f"{path.name}:{number}: {line.strip()} is not pinned to a commit SHA with its release named"
            for number, line in enumerate(path.read_text().splitlines(), start=1)
            if re.match(r"\s*(- )?uses:", line) and not PINNED_USES.search(line.strip().removeprefix("- "))]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_release_named(path):
    assert pin_problems(path) == []


def test_pin_check_catches_a_tag_and_a_bare_sha(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("steps:\n  - uses: actions/checkout@v7\n"
                      "  - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97\n"
                      "  - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0\n")
    assert [problem.split(":")[1] for problem in pin_problems(broken)] == ["2", "3"]


def actionlint(*paths):
    """actionlint with the pinned shellcheck on every `run:` block (not just one found on PATH)."""
    return run_tool("actionlint", "-oneline", "-shellcheck", tool("shellcheck"), "-pyflakes", "", *paths)


def test_actionlint_finds_nothing():
    result = actionlint(*WORKFLOW_FILES)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_fails_an_outdated_action_and_an_unquoted_variable(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "pull-request.yml").read_text()
                      .replace("checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1", "checkout@v4")
                      .replace("- run: make test", "- run: make test PYTEST_ARGS=$PYTEST_ARGS"))
    result = actionlint(broken)
    assert result.returncode != 0
    assert 'runtime "node20" is deprecated' in result.stdout
    assert "SC2086" in result.stdout


def zizmor(*paths):
    """zizmor's offline audits (no GitHub API): injections, credentials, permissions, pinning."""
    return run_tool("zizmor", "--offline", "--no-progress", "--format", "plain", *paths)


def test_zizmor_finds_nothing():
    result = zizmor(GITHUB)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_fails_persisted_credentials_an_unpinned_action_and_an_injection(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS / "pull-request.yml").read_text()
                      .replace("        with:\n          persist-credentials: false\n", "", 1)
                      .replace("setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0", "setup-python@v7")
                      .replace("- run: make test", '- run: make test PYTEST_ARGS="${{ github.head_ref }}"'))
    result = zizmor(broken)
    assert result.returncode != 0
    for audit in ("artipacked", "unpinned-uses", "template-injection"):
        assert f"[{audit}]" in result.stdout, audit
