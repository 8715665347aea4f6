"""A card's history has one write path: only the improvements models package creates Event rows.

Metrics, the weekly update and recurrence read events, so a change that writes its own event
(or none) makes them disagree with the card. Every other module calls an Improvement method.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The application's code: both apps (views, seeders, workflows), the project and the bench.
SCANNED = ["improvements", "retros", "config", "bench"]
ALLOWED = ROOT / "improvements" / "models"


def _name(node: ast.AST) -> str:
    """Dotted name of an expression such as `Event.objects.create` ("" if not a name)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _name(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


def event_writes(source: str) -> list[str]:
    """Each call in `source` that creates Event rows, as `line: call`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if (
            name == "Event"
            or name.endswith(".Event")
            or name.startswith(("Event.objects.", "models.Event.objects."))
            and name.rsplit(".", 1)[1] in ("create", "bulk_create", "get_or_create")
            or name.endswith(("events.create", "events.bulk_create", "events.get_or_create"))
        ):
            found.append(f"{node.lineno}: {name}")
    return found


def _app_modules() -> list[Path]:
    return [
        path
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_only_the_models_package_creates_events():
    modules = _app_modules()
    offenders = {
        str(path.relative_to(ROOT)): writes
        for path in modules
        if ALLOWED not in path.parents and (writes := event_writes(path.read_text()))
    }

    assert len(modules) >= 100  # every app module was read, not none
    assert ROOT / "improvements/management/commands/seed_scale.py" in modules
    assert offenders == {}


def test_the_models_package_itself_is_where_events_are_written():
    writes = [
        write for path in sorted(ALLOWED.rglob("*.py")) for write in event_writes(path.read_text())
    ]

    assert len(writes) >= 3  # so the checker recognises the real write path


def test_the_checker_catches_every_way_of_creating_an_event():
    planted = """
from improvements.models import Event
from improvements import models

Event(improvement=card, kind="moved")
Event.objects.create(improvement=card, kind="moved")
Event.objects.bulk_create([])
models.Event.objects.get_or_create(improvement=card)
card.events.create(kind="moved")
Event.objects.filter(kind="moved").update(at=now)
card.record_history([])
"""

    assert event_writes(planted) == [
        "5: Event",
        "6: Event.objects.create",
        "7: Event.objects.bulk_create",
        "8: models.Event.objects.get_or_create",
        "9: card.events.create",
    ]
