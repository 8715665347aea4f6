"""Consistency checks that run when a module loads must survive `python -O`, which drops asserts."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from improvements.reporting import panels

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("config", "retros", "improvements")


def _module_level_asserts(path: Path) -> list[int]:
    """Line numbers of asserts that run at import: in the module body or a class body."""
    lines = []
    bodies = [ast.parse(path.read_text(), filename=str(path)).body]
    while bodies:
        for node in bodies.pop():
            if isinstance(node, ast.Assert):
                lines.append(node.lineno)
            elif isinstance(node, (ast.ClassDef, ast.If, ast.Try, ast.With)):
                bodies.append(node.body)
    return lines


def test_no_app_module_guards_its_consistency_with_an_assert():
    modules = [
        path
        for package in APP_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    found = {str(path.relative_to(ROOT)): _module_level_asserts(path) for path in modules}
    assert {path: lines for path, lines in found.items() if lines} == {}
    assert len(modules) >= 40  # the sweep reached every app module, not an empty folder


def test_every_dashboard_panel_has_its_builder_in_page_order():
    assert tuple(panels.PANEL_BUILDERS) == panels.PANELS


def test_a_panel_without_a_builder_stops_the_app_from_loading(monkeypatch):
    source = Path(panels.__file__).read_text()
    broken = source.replace('    "effects": panel_effects,\n', "", 1)
    assert broken != source
    code = compile(broken, panels.__file__, "exec", optimize=2)  # as under python -O
    with pytest.raises(ImproperlyConfigured):
        exec(
            code,
            {
                "__name__": "improvements.reporting.panels_copy",
                "__package__": "improvements.reporting",
            },
        )
