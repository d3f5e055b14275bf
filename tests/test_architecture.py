"""design.md §2: the two systems never import each other or the bridge."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"dataverse": ("finance", "projinv.dualwrite"), "finance": ("dataverse", "projinv.dualwrite")}


def imported_modules(source: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def violations(app: str, source: str) -> list[str]:
    return sorted(m for m in imported_modules(source)
                  if any(m == bad or m.startswith(bad + ".") for bad in FORBIDDEN[app]))


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_it_keeps_each_system_ignorant_of_the_other_and_of_the_bridge(app):
    found = {str(path.relative_to(ROOT)): bad for path in (ROOT / app).rglob("*.py")
             if (bad := violations(app, path.read_text()))}
    assert found == {}


@pytest.mark.parametrize("line", [
    "from finance.models import Voucher",
    "import finance",
    "from projinv.dualwrite import outbox",
    "from projinv import dualwrite",
    "def f():\n    from finance.services import posting",
])
def test_it_catches_every_form_of_a_forbidden_import(line):
    assert violations("dataverse", line)


def test_it_allows_shared_helpers():
    assert violations("finance", "from projinv.money import round_money\nfrom projinv.domain import DomainError") == []
