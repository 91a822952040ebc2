"""The package map holds: each room imports only the rooms below it (pyproject's
import-linter contract, the same picture as the README's)."""

from importlinter.cli import lint_imports

from directory import ROOT


def test_rooms_import_only_downward():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_the_readme_names_every_room_of_the_contract():
    import tomllib

    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    rooms = {room.strip() for layer in layers for room in layer.split("|")}
    readme = (ROOT / "README.md").read_text()
    missing = sorted(room for room in rooms if f"{room}" not in readme)
    assert not missing, f"README's package map lacks: {missing}"
