"""CSV formula injection: no cell of any CSV the app writes starts a spreadsheet formula.

Demo data fills every dashboard panel; then every text that can reach a CSV (card titles,
column, category and unit names, user names, deployment causes, versions, links, ids and notes)
is replaced by a formula that starts with one of = + - @ tab or carriage return. Every panel is
downloaded both ways (/dashboard/<name>.csv and ?format=csv) with the deployment export, and
every cell is checked.
"""

import csv
import io
import re
from itertools import cycle

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from improvements.models import Category, Column, Improvement
from improvements.reporting.panels import PANELS
from retros.csv_export import FORMULA_STARTS
from retros.models import Deployment, Unit
from tests.test_access_matrix import ROUTES

NUMBER = re.compile(r"-?\d+(\.\d+)?")
# Panels whose table shows names or titles; the others hold dates and numbers only.
PANELS_WITH_TEXT = {"wip", "flow-times", "cfd", "ageing", "recurring", "slipped", "effects"}


def formula(start: str, what: str, n: int) -> str:
    return f'{start}HYPERLINK("http://evil.example/{what}{n}","{what}{n}")'


def plant_formulas() -> set[str]:
    """Every text that reaches a CSV becomes a formula; returns them all."""
    starts = cycle(FORMULA_STARTS)
    planted = set()

    def plant(rows, field, what, length):
        for n, row in enumerate(rows):
            value = formula(next(starts), what, n)[:length]
            type(row).objects.filter(pk=row.pk).update(**{field: value})
            planted.add(value)

    plant(Column.objects.all(), "name", "col", 60)
    plant(Category.objects.all(), "name", "cat", 60)
    plant(Unit.objects.all(), "name", "unit", 100)
    plant(Improvement.objects.all(), "title", "card", 200)
    plant(get_user_model().objects.all(), "username", "user", 150)
    for field, length in [
        ("blocked_cause", 200),
        ("version", 100),
        ("repo_url", 300),
        ("external_id", 200),
        ("notes", 2000),
    ]:
        plant(Deployment.objects.all(), field, field, length)
    return planted


def rows_of(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode(), newline="")))


def test_no_csv_cell_starts_a_formula_whatever_the_names(client, db):
    call_command("seed_demo", force=True, stdout=io.StringIO())
    planted = plant_formulas()
    client.force_login(get_user_model().objects.get(is_superuser=True))

    csv_routes = {name for route, name in ROUTES if route.endswith(".csv")}
    assert csv_routes == {"deployments:deployment_csv", "reporting:dashboard_csv"}, (
        "add the new CSV to this sweep"
    )
    exports = {"deployments": [reverse("deployments:deployment_csv")]}
    for name in PANELS:
        exports[name] = [
            reverse("reporting:dashboard_csv", args=[name]),
            reverse("reporting:dashboard_panel", args=[name]) + "?format=csv",
        ]
    exports["cfd"].append(reverse("reporting:dashboard_csv", args=["cfd"]) + "?period=day")

    cells = downloads = 0
    defused: dict[str, int] = {}
    for name, paths in exports.items():
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert response["Content-Type"].startswith("text/csv"), path
            downloads += 1
            rows = rows_of(response)
            assert len(rows) > 1, f"{path} has no data rows: the sweep would check nothing"
            for row in rows:
                for cell in row:
                    cells += 1
                    if cell.startswith(FORMULA_STARTS):
                        assert NUMBER.fullmatch(cell), f"{path}: live formula {cell[:40]!r}"
                    if cell.startswith("'") and cell[1:] in planted:
                        defused[name] = defused.get(name, 0) + 1
    print(
        f"\nCSV sweep: {len(exports)} exports ({len(PANELS)} panels and the deployment log), "
        f"{downloads} downloads, {cells} cells checked, {sum(defused.values())} planted "
        f"formulas shown defused, 0 live"
    )
    assert set(defused) == PANELS_WITH_TEXT | {"deployments"}, sorted(defused)
    assert downloads == 2 * len(PANELS) + 2
    assert cells > 2000 and sum(defused.values()) > 200


def test_a_defused_cell_keeps_its_text_after_the_quote(client, db, staff, columns):
    Column.objects.filter(pk=columns["Ideas"].pk).update(name="=1+1")
    client.force_login(staff)

    rows = rows_of(client.get(reverse("reporting:dashboard_csv", args=["wip"])))

    assert ["'=1+1", "0", "", "no"] in rows


def test_numbers_stay_numbers_even_when_negative():
    from retros.csv_export import csv_safe

    assert csv_safe(-3.5) == "-3.5"
    assert csv_safe(-2) == "-2"
    assert csv_safe("-2") == "'-2"
    assert csv_safe(None) == ""
