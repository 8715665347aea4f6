import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from retros.models import ProcessStep, ProcessStepChange
from retros.views.deployments import process_history
from tests.factories import DeploymentFactory, ProcessStepFactory

TODAY = datetime.date(2026, 3, 18)  # a Wednesday in 2026-W12


@pytest.fixture
def steps(db):
    return [
        ProcessStepFactory(title="Freeze the branch", position=1, minutes=5),
        ProcessStepFactory(title="Run manual regression", position=2, minutes=60),
        ProcessStepFactory(title="Write the changelog", position=3, minutes=20),
    ]


def titles():
    return list(ProcessStep.objects.values_list("title", flat=True))


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def test_everyone_reads_the_map_with_its_figures(outsider_client, steps):
    steps[0].how_to = "Run `git tag`\n\n<script>alert(1)</script>"
    steps[0].save()
    steps[2].change_mode(ProcessStep.Mode.AUTOMATED)
    response = outsider_client.get(reverse("deployments:process_map"))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["manual_steps_left"] == 2
    assert response.context["manual_minutes"] == 65
    assert "<code>git tag</code>" in body
    assert "<script>alert(1)</script>" not in body
    assert reverse("deployments:process_step_create") not in body
    assert reverse("deployments:process_step_move", args=[steps[0].pk]) not in body


@pytest.mark.parametrize(
    "user_fixture", ["outsider", "owner"], ids=["outsider", "product unit member"]
)
def test_only_qa_platform_and_staff_change_the_process(client, steps, user_fixture, request, unit):
    client.force_login(request.getfixturevalue(user_fixture))
    step = steps[1]
    assert client.get(reverse("deployments:process_step_edit", args=[step.pk])).status_code == 403
    response = client.post(
        reverse("deployments:process_step_edit", args=[step.pk]),
        {"title": "Hacked", "mode": "dropped", "minutes": 0},
    )
    assert response.status_code == 403
    assert (
        client.post(
            reverse("deployments:process_step_move", args=[step.pk]), {"direction": "up"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            reverse("deployments:process_step_create"),
            {"title": "X", "mode": "manual", "minutes": 1},
        ).status_code
        == 403
    )
    assert titles() == ["Freeze the branch", "Run manual regression", "Write the changelog"]
    assert not ProcessStepChange.objects.exists()


def test_a_platform_member_may_edit(platform_client, steps):
    assert (
        platform_client.get(
            reverse("deployments:process_step_edit", args=[steps[0].pk])
        ).status_code
        == 200
    )


def test_staff_may_edit(client, staff, steps):
    client.force_login(staff)
    assert (
        client.get(reverse("deployments:process_step_edit", args=[steps[0].pk])).status_code == 200
    )


def test_qa_adds_a_step_at_the_end(qa_client, steps):
    response = qa_client.post(
        reverse("deployments:process_step_create"),
        {"title": "Smoke test production", "mode": "manual", "minutes": 15, "how_to": "Click"},
    )
    assert response.status_code == 302
    assert titles()[-1] == "Smoke test production"


def test_qa_edits_a_step_and_the_mode_change_is_recorded(qa_client, qa_member, steps):
    step = steps[1]
    response = qa_client.post(
        reverse("deployments:process_step_edit", args=[step.pk]),
        {
            "title": "Run regression suite",
            "mode": "automated",
            "minutes": 45,
            "how_to": "It runs in CI now.",
            "note": "Suite moved to CI",
        },
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.title, step.mode, step.minutes) == ("Run regression suite", "automated", 45)
    change = ProcessStepChange.objects.get()
    assert (change.step, change.old_mode, change.new_mode) == (step, "manual", "automated")
    assert (change.changed_by, change.note) == (qa_member, "Suite moved to CI")
    history = qa_client.get(
        reverse("deployments:process_step_edit", args=[step.pk])
    ).content.decode()
    assert "Suite moved to CI" in history


def test_an_edit_that_keeps_the_mode_records_no_change(qa_client, steps):
    qa_client.post(
        reverse("deployments:process_step_edit", args=[steps[0].pk]),
        {"title": "Freeze main", "mode": "manual", "minutes": 5},
    )
    assert not ProcessStepChange.objects.exists()


def test_an_invalid_edit_keeps_what_was_typed(qa_client, steps):
    response = qa_client.post(
        reverse("deployments:process_step_edit", args=[steps[0].pk]),
        {"title": "", "mode": "automated", "minutes": -1, "how_to": "kept"},
    )
    assert response.status_code == 200
    assert response.context["form"]["how_to"].value() == "kept"
    steps[0].refresh_from_db()
    assert steps[0].mode == "manual"
    assert not ProcessStepChange.objects.exists()


@pytest.mark.parametrize(
    ("index", "direction", "expected"),
    [
        (2, "up", ["Freeze the branch", "Write the changelog", "Run manual regression"]),
        (0, "down", ["Run manual regression", "Freeze the branch", "Write the changelog"]),
        (0, "up", ["Freeze the branch", "Run manual regression", "Write the changelog"]),
        (2, "down", ["Freeze the branch", "Run manual regression", "Write the changelog"]),
    ],
)
def test_qa_moves_steps_up_and_down(qa_client, steps, index, direction, expected):
    response = qa_client.post(
        reverse("deployments:process_step_move", args=[steps[index].pk]), {"direction": direction}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#step-{steps[index].pk}")
    assert titles() == expected


def test_moving_untangles_equal_positions(qa_client, db):
    a, b, c = (ProcessStepFactory(title=t, position=0) for t in "ABC")
    qa_client.post(reverse("deployments:process_step_move", args=[c.pk]), {"direction": "up"})
    assert titles() == ["A", "C", "B"]
    assert list(ProcessStep.objects.values_list("position", flat=True)) == [1, 2, 3]


def test_a_move_needs_a_direction_and_a_post(qa_client, steps):
    url = reverse("deployments:process_step_move", args=[steps[0].pk])
    assert qa_client.post(url, {"direction": "sideways"}).status_code == 400
    assert qa_client.get(url).status_code == 405


def test_the_history_replays_mode_changes_week_by_week(steps):
    freeze, regression, changelog = steps
    # Two weeks ago the regression became automated; last week the changelog was dropped.
    ProcessStepChange.objects.create(
        step=regression,
        old_mode="manual",
        new_mode="automated",
        changed_at=at(datetime.date(2026, 3, 4)),
    )
    ProcessStepChange.objects.create(
        step=changelog,
        old_mode="manual",
        new_mode="dropped",
        changed_at=at(datetime.date(2026, 3, 11)),
    )
    ProcessStep.objects.filter(pk=regression.pk).update(mode="automated")
    ProcessStep.objects.filter(pk=changelog.pk).update(mode="dropped")

    rows = process_history(4, today=TODAY)
    summary = [(r["label"], r["manual_steps"], r["manual_minutes"], r["changes"]) for r in rows]
    assert summary == [
        ("2026-W12", 1, 5, 0),
        ("2026-W11", 1, 5, 1),
        ("2026-W10", 2, 25, 1),
        ("2026-W09", 3, 85, 0),
    ]


def test_the_history_counts_semi_automatic_steps_as_manual(steps):
    steps[1].change_mode(ProcessStep.Mode.SEMI_AUTOMATIC)
    rows = process_history(1)
    assert rows[0]["manual_steps"] == 3


def test_the_history_sets_the_deployment_log_beside_it(steps):
    monday = datetime.date(2026, 3, 9)
    for hands_on, steps_done in [(30, 10), (50, 12)]:
        DeploymentFactory(
            started_at=at(monday),
            finished_at=at(monday) + datetime.timedelta(hours=1),
            hands_on_minutes=hands_on,
            manual_steps_done=steps_done,
        )
    rows = {row["label"]: row for row in process_history(3, today=TODAY)}
    assert rows["2026-W11"]["deployments"] == 2
    assert rows["2026-W11"]["hands_on_per_deployment"] == 40
    assert rows["2026-W11"]["manual_steps_done_per_deployment"] == 11
    assert rows["2026-W12"]["deployments"] == 0
    assert rows["2026-W12"]["hands_on_per_deployment"] is None


def test_the_map_costs_the_same_queries_however_long_the_history(outsider_client, steps):
    def count_queries():
        with CaptureQueriesContext(connection) as context:
            outsider_client.get(reverse("deployments:process_map"), {"weeks": 52})
        return len(context)

    steps[0].change_mode("automated")  # a history of one, so its prefetches run from the start
    before = count_queries()
    for week in range(40):
        step = steps[week % 3]
        step.change_mode("automated" if step.mode == "manual" else "manual")
        DeploymentFactory(started_at=timezone.now() - datetime.timedelta(weeks=week, hours=3))
    assert count_queries() == before


def test_a_silly_number_of_weeks_falls_back(outsider_client, steps):
    assert (
        len(
            outsider_client.get(reverse("deployments:process_map"), {"weeks": "many"}).context[
                "history"
            ]
        )
        == 12
    )
    assert (
        len(
            outsider_client.get(reverse("deployments:process_map"), {"weeks": "0"}).context[
                "history"
            ]
        )
        == 1
    )
