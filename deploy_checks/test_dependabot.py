"""Dependabot moves every pin: the Dockerfiles' base image, compose's images, every requirements file,
the workflows' actions. Its file follows Dependabot's schema."""
from __future__ import annotations

from deploy_checks.layout import COMPOSE_FILE, DEPENDABOT, REPO, WORKFLOWS, load_yaml, run_tool


def dependabot_schema(path):
    return run_tool("check-jsonschema", "--builtin-schema", "vendor.dependabot", path)


def test_dependabot_file_follows_its_schema():
    result = dependabot_schema(DEPENDABOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_schema_check_fails_a_broken_file(tmp_path):
    broken = tmp_path / "dependabot.yml"
    broken.write_text(DEPENDABOT.read_text().replace("interval: weekly", "interval: fortnightly", 1))
    result = dependabot_schema(broken)
    assert result.returncode != 0
    assert "fortnightly" in result.stdout


def _directory(path) -> str:
    parent = path.parent.relative_to(REPO).as_posix()
    return "/" if parent == "." else f"/{parent}"


def pinned_here() -> dict[str, set[str]]:
    """Ecosystem -> the directories of this repository holding what it pins (the top level and the
    packages beside it; nothing deeper, and not the virtualenv)."""
    def holding(pattern: str) -> set[str]:
        return {_directory(path) for path in [*REPO.glob(pattern), *REPO.glob(f"*/{pattern}")]
                if not path.relative_to(REPO).parts[0].startswith(".")}

    return {
        "docker": holding("Dockerfile*"),
        "docker-compose": {_directory(COMPOSE_FILE)},
        "pip": holding("requirements*.txt"),
        "github-actions": {"/"} if any(WORKFLOWS.glob("*.yml")) else set(),
    }


def coverage_problems(config: dict, pinned: dict[str, set[str]]) -> list[str]:
    covered: dict[str, set[str]] = {}
    for update in config.get("updates") or []:
        directories = update.get("directories") or [update.get("directory")]
        covered.setdefault(update.get("package-ecosystem"), set()).update(d.rstrip("/") or "/" for d in directories)
    return [f"dependabot: {ecosystem} pins in {directory} are never updated"
            for ecosystem, directories in pinned.items()
            for directory in sorted(directories - covered.get(ecosystem, set()))]


def test_dependabot_updates_every_pin_of_the_repository():
    assert coverage_problems(load_yaml(DEPENDABOT), pinned_here()) == []


def test_coverage_check_catches_a_forgotten_directory_and_ecosystem():
    config = load_yaml(DEPENDABOT)
    config["updates"] = [update for update in config["updates"] if update["package-ecosystem"] != "github-actions"]
    pip = next(update for update in config["updates"] if update["package-ecosystem"] == "pip")
    pip["directories"].remove("/bench")
    assert coverage_problems(config, pinned_here()) == [
        "dependabot: pip pins in /bench are never updated",
        "dependabot: github-actions pins in / are never updated",
    ]
