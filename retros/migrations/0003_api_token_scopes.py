"""Tokens get scopes; the ones that already exist keep what they could do: record deployments."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("retros", "0002_person_duty_feed")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.CharField(
                blank=True, default="deployments:write", help_text="Space-separated scopes.",
                max_length=200,
            ),
            preserve_default=False,
        ),
    ]
