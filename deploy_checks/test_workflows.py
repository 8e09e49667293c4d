"""GitHub workflows: the workflow schema, and what each service's release pipeline does."""
from __future__ import annotations

import re

import pytest

from deploy_checks.layout import PROD, REPO, WORKFLOWS, load_yaml, run_tool, workflow_trigger
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
    """After the tests, an AWS role by OIDC, then the service's image built and pushed with a version tag."""
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
    if "GITHUB_RUN_NUMBER" not in build and "github.run_number" not in build:
        problems.append("the image tag is not a version (run number)")
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
    if "git push" not in run or (job.get("permissions") or {}).get("contents") != "write":
        problems.append("does not commit the new image for Argo CD")
    if image_job not in _needs(job):
        problems.append("deploys before the image is pushed")
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
    assert release_problems(workflow, store) == [
        "paths ['store_service/**', 'salesync_common/**', 'Dockerfile-store', '**'], expected "
        "['Dockerfile-store', 'salesync_common/**', 'store_service/**']",
        "does not run `make test PYTEST_ARGS=store_service`",
        "the image job cannot get an OIDC token (permissions: id-token: write)",
        "does not edit k8s/overlays/prod/store",
    ]


def test_no_other_workflow_deploys():
    release = {f"service-{d.deploy}.yml" for d in roster.SERVICES}
    others = [path.name for path in WORKFLOW_FILES if path.name not in release]
    assert others == ["pull-request.yml"]


def test_pull_requests_run_make_test_with_the_deploy_checks():
    workflow = load_yaml(WORKFLOWS / "pull-request.yml")
    assert "pull_request" in workflow_trigger(workflow)
    assert any(step.get("run") == "make test" for _, step in steps(workflow))
