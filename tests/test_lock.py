"""requirements.lock is the whole installed tree: every pin of pyproject.toml is in it at the
same version, every entry carries hashes, and what this suite runs on is what it says."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
ENTRY = re.compile(r"^[A-Za-z0-9][^\\\n]*", re.MULTILINE)


def locked(*, here: bool = False) -> dict[str, str]:
    """name -> version of every entry (with `here`, only those whose markers hold on this machine)."""
    entries = {}
    for line in ENTRY.findall((ROOT / "requirements.lock").read_text()):
        requirement = Requirement(line.strip())
        if here and requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (spec,) = requirement.specifier
        entries[canonicalize_name(requirement.name)] = spec.version
    return entries


def pinned() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *(line for extra in project["optional-dependencies"].values() for line in extra)]
    pins = {}
    for line in lines:
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{line}: pyproject.toml pins exact versions"
        pins[canonicalize_name(requirement.name)] = spec.version
    return pins


def test_every_pin_of_pyproject_is_locked_at_its_version():
    lock = locked()
    stale = {name: (version, lock.get(name)) for name, version in pinned().items() if lock.get(name) != version}
    assert not stale, f"run `make lock`: pyproject.toml and requirements.lock disagree on {stale}"


def test_every_locked_package_carries_hashes():
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.lock").read_text())
    entries = [b for b in blocks if ENTRY.match(b)]
    assert len(entries) > 100  # the transitive tree, not the direct pins alone
    unhashed = [b.split()[0] for b in entries if "--hash=sha256:" not in b]
    assert not unhashed


def test_the_suite_runs_on_the_locked_versions():
    lock = locked(here=True)
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drift = {
        name: (version, installed.get(name))
        for name, version in lock.items()
        if installed.get(name, version) != version
    }
    missing = sorted(name for name in lock if name not in installed)
    assert not drift, f"installed versions differ from requirements.lock (run `make install`): {drift}"
    assert not missing, f"locked but not installed (run `make install`): {missing}"
