"""The layers, checked by walking every module's imports with ast (README, "Architecture").

    ground  (gateway/ground)   imports nothing else of the project
    store, inbound, outbound   the ground and themselves; never each other, never the deciding code
    gateway (deciding code)    the ground, itself and store's repositories; never inbound/ or outbound/
    app, cli                   the composition root: anything
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = {
    "helpdesk.gateway.ground": {"helpdesk.gateway.ground"},
    "helpdesk.store": {"helpdesk.gateway.ground", "helpdesk.store"},
    "helpdesk.inbound": {"helpdesk.gateway.ground", "helpdesk.inbound"},
    "helpdesk.outbound": {"helpdesk.gateway.ground", "helpdesk.outbound", "helpdesk.templates"},
    "helpdesk.gateway": {"helpdesk.gateway", "helpdesk.store"},
}
TOP_FOLDERS = ("gateway", "inbound", "outbound", "store", "templates", "app")


def project_modules():
    for folder in TOP_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            yield "helpdesk." + ".".join(path.relative_to(REPO).with_suffix("").parts), path
    yield "helpdesk.cli", REPO / "cli.py"


def imports_of(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found += [(node.lineno, node.module)]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


def layer_of(module: str) -> str | None:
    return max((layer for layer in LAYERS if module == layer or module.startswith(layer + ".")), key=len, default=None)


def is_within(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def test_no_import_runs_against_the_layers():
    wrong = []
    for module, path in project_modules():
        layer = layer_of(module)
        for line, imported in imports_of(path):
            if imported.split(".")[0] in ("gateway", "inbound", "outbound", "store", "templates", "app", "cli"):
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {imported} outside the helpdesk namespace")
            elif layer and imported.startswith("helpdesk.") and not is_within(imported, LAYERS[layer]):
                wrong.append(f"{path.relative_to(REPO)}:{line} ({layer}) imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_rule_sees_a_violation(tmp_path):
    """The walk above must be able to fail: an adapter importing the deciding code is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from helpdesk.gateway.pipeline.stages import STAGES\n")
    (line, imported), = imports_of(bad)
    assert not is_within(imported, LAYERS[layer_of("helpdesk.inbound.bad")])


def test_every_package_folder_is_installed():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"helpdesk." + ".".join(init.parent.relative_to(REPO).parts)
               for folder in TOP_FOLDERS for init in (REPO / folder).rglob("__init__.py")}
    assert folders <= listed, f"missing from pyproject.toml packages: {sorted(folders - listed)}"


@pytest.mark.parametrize("module, path", [(m, p) for m, p in project_modules() if p.read_text().strip()],
                         ids=lambda v: str(v))
def test_every_module_says_its_purpose(module, path):
    assert ast.get_docstring(ast.parse(path.read_text())), f"{module} has no purpose line"
