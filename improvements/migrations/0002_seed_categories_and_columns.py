"""Seed the default categories and board columns; both stay editable afterwards."""

from django.db import migrations

CATEGORIES = [
    ("Automate", "automate", "#2563eb"),
    ("Drop manual test", "drop-manual-test", "#7c3aed"),
    ("Flaky e2e", "flaky-e2e", "#dc2626"),
    ("Release toggle", "release-toggle", "#0891b2"),
    ("Smoke test", "smoke-test", "#16a34a"),
    ("Documentation", "documentation", "#ca8a04"),
    ("Remove waste", "remove-waste", "#db2777"),
    ("Tooling", "tooling", "#4b5563"),
]

COLUMNS = [
    ("Ideas", "backlog", None),
    ("Next", "backlog", 8),
    ("In progress", "active", 4),
    ("Done", "done", None),
]


def seed(apps, schema_editor):
    Category = apps.get_model("improvements", "Category")
    Column = apps.get_model("improvements", "Column")
    for position, (name, slug, colour) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "colour": colour, "position": position}
        )
    if not Column.objects.exists():
        for position, (name, state, wip_limit) in enumerate(COLUMNS, start=1):
            Column.objects.create(name=name, state=state, wip_limit=wip_limit, position=position)


class Migration(migrations.Migration):
    dependencies = [("improvements", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
