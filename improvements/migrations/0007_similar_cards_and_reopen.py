# Trigram indexes for "similar improvements" in triage, and the events of undoing a link.

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

TRIGRAM_INDEXES = {
    "improvement_title_trgm": "title",
    "improvement_description_trgm": "description",
}


def create_trigram_indexes(apps, schema_editor):
    # GIN trigram indexes exist on PostgreSQL only; SQLite ranks by word overlap instead
    # (improvements/similar.py), so there is nothing to index there.
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON improvements_improvement "
            f"USING gin ({column} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("improvements", "0006_effect_verdict_choices"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
        migrations.AlterField(
            model_name="event",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("moved", "Moved"),
                    ("edited", "Edited"),
                    ("commented", "Commented"),
                    ("linked", "Linked a finding"),
                    ("unlinked", "Unlinked a finding"),
                    ("reopened", "Reopened"),
                    ("archived", "Archived"),
                    ("unarchived", "Unarchived"),
                    ("dropped", "Dropped"),
                    ("step_changed", "Changed a process step"),
                    ("verdict", "Effect verdict"),
                ],
                max_length=14,
            ),
        ),
    ]
