"""The package map holds: each room imports only the rooms below it (pyproject's
import-linter contract, the same picture as the README's)."""

import subprocess
import sys

from directory import ROOT

SCRIPT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True))"
)


def test_rooms_import_only_downward():
    # In a process of its own: import-linter configures logging, which would
    # silence the loggers of every test after it.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_readme_names_every_room_of_the_contract():
    import tomllib

    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    rooms = {room.strip() for layer in layers for room in layer.split("|")}
    readme = (ROOT / "README.md").read_text()
    missing = sorted(room for room in rooms if f"{room}" not in readme)
    assert not missing, f"README's package map lacks: {missing}"


def test_security_lint_is_on_and_clean():
    """Issue 23, item 9: flake8-bandit's rules (ruff's S) are selected, and every finding is fixed or
    justified in place (a `# noqa: S...` with its reason); only tests and bench ignore some, with a why."""
    import tomllib

    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    package_ignores = {
        name: codes for name, codes in lint["per-file-ignores"].items() if not name.startswith(("tests/", "bench/"))
    }
    assert not [name for name, codes in package_ignores.items() if any(code.startswith("S") for code in codes)]
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "S", "--output-format", "concise", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    bare = subprocess.run(
        ["git", "grep", "-nE", r"noqa: S[0-9]+\s*$", "--", "*.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert not bare.stdout, f"a noqa without its reason: {bare.stdout}"
