"""The README's permission table, walked: every role tries every write action through the app.

Each row of the table ("Who may change what") is one or more real requests; each role sends
each of them. A ✓ (or any words) in the README means the request must change the database;
a "–" means it must be refused (403, or a form that says why) and change nothing.
"""

import datetime
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from improvements.models import Column, Improvement
from improvements.permissions import can_edit_board, can_edit_board_expression
from retros.models import (
    ChatWebhook,
    DeploymentRun,
    Finding,
    ProcessStep,
    Retrospective,
    Unit,
)
from retros.weeks import monday_of
from tests.factories import (
    DeploymentFactory,
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    UnitFactory,
    UserFactory,
)
from tests.improvements.board_helpers import column_settings_form

README = Path(__file__).resolve().parent.parent / "README.md"
ROLES = ["staff", "platform", "qa", "owner", "other", "lapsed", "outsider"]
HEADERS = ["Staff", "Platform team", "QA", "Unit", "Other unit", "Deactivated unit only", "No unit"]

Request = Callable[[dict], tuple[str, dict]]


def _card_edit(card_key: str, **changes) -> Request:
    def build(w: dict) -> tuple[str, dict]:
        card = w[card_key]
        data = {
            "title": card.title,
            "description": "",
            "category": card.category_id,
            "unit": card.unit_id or "",
            "assignee": "",
            "target_step": "",
            "expected_effect": "",
            "external_link": "",
        }
        data.update({key: value(w) if callable(value) else value for key, value in changes.items()})
        return reverse("board:improvement_edit", args=[card.pk]), data

    return build


def _deployment_data(w: dict) -> dict:
    return {
        "environment": "production",
        "started_at": "2026-03-03T10:00",
        "finished_at": "2026-03-03T10:40",
        "hands_on_minutes": 10,
        "result": "success",
        "blocked_minutes": 0,
        "restarts": 0,
        "manual_steps_done": 0,
        "trigger": "manual",
    }


# README row -> the requests that row stands for.
ACTIONS: dict[str, list[Request]] = {
    "Create and edit units, add and remove members": [
        lambda w: (reverse("teams:unit_create"), {"name": "Checkout", "kind": "product"}),
        lambda w: (
            reverse("teams:unit_edit", args=[w["search"].pk]),
            {"name": "Search 2", "kind": "product", "is_active": "on"},
        ),
        lambda w: (
            reverse("teams:unit_member_add", args=[w["search"].pk]),
            {"user": w["newcomer"].pk},
        ),
        lambda w: (
            reverse("teams:unit_member_remove", args=[w["search"].pk, w["searcher"].pk]),
            {},
        ),
    ],
    "Plan, edit and swap duty weeks": [
        lambda w: (reverse("teams:rotation_generate"), {"weeks": 4}),
        lambda w: (
            reverse("teams:duty_week_edit", args=[w["week2"].pk]),
            {"unit": w["search"].pk, "qa_person": "", "platform_person": ""},
        ),
        lambda w: (
            reverse("teams:rotation_swap"),
            {"first": w["week2"].pk, "second": w["week3"].pk},
        ),
    ],
    "Renew a unit's calendar URL": [
        lambda w: (reverse("teams:unit_feed_regenerate", args=[w["payments"].pk]), {}),
    ],
    "Renew your own calendar URL": [lambda w: (reverse("teams:person_feed_regenerate"), {})],
    "Log or correct a deployment": [
        lambda w: (reverse("deployments:deployment_create"), _deployment_data(w)),
        lambda w: (
            reverse("deployments:deployment_edit", args=[w["deployment"].pk]),
            {**_deployment_data(w), "version": "v2"},
        ),
    ],
    "Change the process map (steps, order, mode)": [
        lambda w: (
            reverse("deployments:process_step_create"),
            {"title": "Tag", "mode": "manual", "minutes": 5, "unit": "", "how_to": ""},
        ),
        lambda w: (
            reverse("deployments:process_step_edit", args=[w["step"].pk]),
            {"title": "Smoke", "mode": "manual", "minutes": 9, "unit": "", "how_to": ""},
        ),
        lambda w: (
            reverse("deployments:process_step_move", args=[w["step"].pk]),
            {"direction": "down"},
        ),
        lambda w: (
            reverse("process_link:improvement_step_change", args=[w["done_card"].pk]),
            {"mode": "automated"},
        ),
    ],
    "Start the week's retro": [lambda w: (reverse("retros:retro_start"), {"week": w["past"].pk})],
    "Run a draft retro's meeting (phase, private writing, votes each)": [
        lambda w: (reverse("retros:retro_phase", args=[w["draft"].pk]), {"phase": "group"}),
        lambda w: (reverse("retros:retro_privacy", args=[w["draft"].pk]), {"hidden": "1"}),
        lambda w: (
            reverse("retros:retro_vote_budget", args=[w["draft"].pk]),
            {"votes_per_person": "5"},
        ),
    ],
    "Group findings and vote in a draft retro": [
        lambda w: (
            reverse("retros:finding_group", args=[w["draft"].pk]),
            {"finding": w["draft_finding"].pk, "target": f"f{w['draft_finding2'].pk}"},
        ),
        lambda w: (
            # Votes are cast in the Vote phase; the phase is set inside the tried transaction.
            Retrospective.objects.filter(pk=w["draft"].pk).update(phase="vote")
            and reverse("retros:retro_vote", args=[w["draft"].pk]),
            {"target": f"f{w['draft_finding'].pk}"},
        ),
    ],
    "Write a draft retro (findings, submit, progress notes)": [
        lambda w: (
            reverse("retros:finding_add", args=[w["draft"].pk]),
            {"kind": "pain", "text": "Waited on QA"},
        ),
        lambda w: (
            reverse("retros:finding_edit", args=[w["draft_finding"].pk]),
            {"kind": "pain", "text": "Rewritten"},
        ),
        lambda w: (reverse("retros:finding_delete", args=[w["draft_finding"].pk]), {}),
        lambda w: (reverse("retros:retro_submit", args=[w["draft"].pk]), {"confirm_missing": "1"}),
        lambda w: (
            reverse("triage:carry_over_note", args=[w["draft"].pk, w["card"].pk]),
            {"note": "Half done"},
        ),
    ],
    "Correct a submitted retro": [
        lambda w: (
            reverse("retros:finding_add", args=[w["submitted"].pk]),
            {"kind": "idea", "text": "Forgot this"},
        ),
    ],
    "Triage a submitted retro's pains and ideas": [
        lambda w: (
            reverse("triage:finding_promote", args=[w["pain"].pk]),
            {"title": "Automate it", "category": w["card"].category_id, "unit": "", "assignee": ""},
        ),
        lambda w: (
            reverse("triage:finding_link", args=[w["idea"].pk]),
            {"improvement": w["card"].pk},
        ),
        lambda w: (reverse("triage:finding_no_action", args=[w["pain2"].pk]), {"reason": "Gone"}),
        lambda w: (reverse("triage:finding_reopen", args=[w["triaged"].pk]), {}),
    ],
    "Work the board (add, move, edit, comment, archive, drop)": [
        lambda w: (reverse("board:column_add_card", args=[w["ideas"].pk]), {"title": "New idea"}),
        lambda w: (
            reverse("board:card_move", args=[w["card"].pk]),
            {"column": w["next"].pk, "place": "top"},
        ),
        _card_edit("card", title="Renamed"),
        lambda w: (reverse("board:improvement_comment", args=[w["card"].pk]), {"body": "On it"}),
        lambda w: (reverse("board:improvement_archive", args=[w["card"].pk]), {}),
        lambda w: (
            reverse("board:improvement_drop", args=[w["card"].pk]),
            {"reason": "Not needed"},
        ),
    ],
    "Hand a card to another unit (members of both units may)": [
        _card_edit("done_card", unit=lambda w: w["search"].pk),
    ],
    "Claim a card without an owner for a unit": [
        _card_edit("orphan", unit=lambda w: w["payments"].pk),
    ],
    "Set the effect verdict of a finished card": [
        lambda w: (
            reverse("reporting:effect_verdict", args=[w["done_card"].pk]),
            {"verdict": "confirmed"},
        ),
    ],
    "Set the effect verdict of a card without an owner": [
        lambda w: (
            reverse("reporting:effect_verdict", args=[w["done_orphan"].pk]),
            {"verdict": "confirmed"},
        ),
    ],
    "Change the board's columns": [lambda w: (reverse("board:column_settings"), _columns_data())],
    "Run a deployment (start, press steps, restart, note, abort, finish)": [
        lambda w: (reverse("runs:run_start"), {"environment": "staging", "version": "v9"}),
        lambda w: (reverse("runs:run_step_act", args=[w["run_steps"][1].pk]), {"action": "start"}),
        lambda w: (reverse("runs:run_restart", args=[w["run"].pk]), {"step": w["run_steps"][0].pk}),
        lambda w: (reverse("runs:run_note", args=[w["run"].pk]), {"kind": "pain", "text": "Slow"}),
        lambda w: (reverse("runs:run_abort", args=[w["run"].pk]), {"reason": "Wrong build"}),
        lambda w: (reverse("runs:run_finish", args=[w["run"].pk]), {"result": "failure"}),
    ],
    "Improve a step's how-to during a run": [
        lambda w: (
            reverse("runs:run_step_how_to", args=[w["run_steps"][2].pk]),
            {"how_to": "Press the big button"},
        ),
    ],
    "Set up a unit's chat channel (add, test, remove)": [
        lambda w: (
            reverse("integrations:chat_webhook_add"),
            {"unit": w["payments"].pk, "kind": "slack", "url": "https://chat.example/new"},
        ),
        lambda w: (reverse("integrations:chat_webhook_test", args=[w["payments_chat"].pk]), {}),
        lambda w: (reverse("integrations:chat_webhook_delete", args=[w["payments_chat"].pk]), {}),
    ],
    "Set up an organisation-wide chat channel": [
        lambda w: (
            reverse("integrations:chat_webhook_add"),
            {"unit": "", "kind": "teams", "url": "https://chat.example/all"},
        ),
        lambda w: (reverse("integrations:chat_webhook_delete", args=[w["org_chat"].pk]), {}),
    ],
}

# Rows whose refusal is a form saying why (200) rather than a 403.
REFUSED_BY_FORM = {
    "Hand a card to another unit (members of both units may)",
    "Claim a card without an owner for a unit",
    # A member of another unit may add channels, just not for this unit: the form says so.
    "Set up a unit's chat channel (add, test, remove)",
    "Set up an organisation-wide chat channel",
}


def _columns_data() -> dict:
    columns = list(Column.objects.order_by("position"))
    return column_settings_form(columns, **{columns[0].name: {"name": f"{columns[0].name}!"}})


def readme_table() -> dict[str, list[bool]]:
    """Action -> allowed per role, from the README's table."""
    text = README.read_text()
    section = text.split("## Who may change what", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header == ["Action", *HEADERS]
    table = {}
    for line in lines[1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if set(cells[0]) <= {"-", " "}:
            continue
        table[cells[0]] = [cell not in ("–", "-", "") for cell in cells[1:]]
    return table


@pytest.fixture
def w(db, staff, outsider, owner):
    now = timezone.now()
    this_monday = monday_of(timezone.localdate())
    people = {
        "staff": staff,
        "outsider": outsider,
        "owner": owner,
        "platform": UserFactory(username="platform-member"),
        "qa": UserFactory(username="qa-member"),
        "other": UserFactory(username="searcher"),
        "lapsed": UserFactory(username="lapsed"),
    }
    payments = UnitFactory(name="Payments", members=[owner])
    search = UnitFactory(name="Search", members=[people["other"]])
    UnitFactory(name="Platform", kind=Unit.Kind.PLATFORM, members=[people["platform"]])
    UnitFactory(name="QA", kind=Unit.Kind.QA, members=[people["qa"]])
    UnitFactory(
        name="Old platform", kind=Unit.Kind.PLATFORM, is_active=False, members=[people["lapsed"]]
    )
    shadow, duty_platform = UserFactory(username="shadow"), UserFactory(username="duty-platform")
    weeks = {}
    # "past" has begun and has no retro yet: a retro cannot be started before its week begins.
    for offset, name in [(-2, "past"), (-1, "week0"), (0, "week1"), (1, "week2"), (2, "week3")]:
        weeks[name] = DutyWeekFactory(
            week_start=this_monday + datetime.timedelta(weeks=offset),
            unit=payments if name != "week3" else search,
            qa_person=shadow,
            platform_person=duty_platform,
        )
    submitted = Retrospective.objects.create(
        duty_week=weeks["week0"], facilitator=owner, status=Retrospective.Status.SUBMITTED
    )
    draft = Retrospective.objects.create(duty_week=weeks["week1"], facilitator=owner)
    columns = {column.state: column for column in Column.objects.all()}
    ideas = Column.objects.order_by("position").first()
    step = ProcessStep.objects.create(title="Smoke test by hand", position=1)
    ProcessStep.objects.create(title="Announce", position=2)
    card = ImprovementFactory(unit=payments, column=ideas)
    done = columns[Column.State.DONE]
    done_card = ImprovementFactory(unit=payments, column=done, done_at=now, target_step=step)
    done_orphan = ImprovementFactory(column=done, done_at=now)
    # A run of this week (Payments on duty): its first step under way, its last one owned
    # by Payments, whose members may improve that step's how-to.
    ProcessStep.objects.create(title="Deploy", position=3, unit=payments)
    run = DeploymentRun.start(owner, environment="production")
    run_steps = list(run.steps.order_by("position"))
    run.step_action(run_steps[0], "start", owner)
    triaged = FindingFactory(retro=submitted, kind="pain", author=owner)
    triaged.outcome = Finding.Outcome.NO_ACTION
    triaged.save()
    return people | {
        "payments": payments,
        "search": search,
        "searcher": people["other"],
        "newcomer": UserFactory(username="newcomer"),
        **weeks,
        "draft": draft,
        "submitted": submitted,
        "draft_finding": FindingFactory(retro=draft, kind="pain", author=owner),
        "draft_finding2": FindingFactory(retro=draft, kind="idea", author=owner),
        "pain": FindingFactory(retro=submitted, kind="pain", author=owner),
        "pain2": FindingFactory(retro=submitted, kind="pain", author=owner),
        "idea": FindingFactory(retro=submitted, kind="idea", author=owner),
        "triaged": triaged,
        "ideas": ideas,
        "next": Column.objects.order_by("position")[1],
        "step": step,
        "deployment": DeploymentFactory(),
        "card": card,
        "done_card": done_card,
        "orphan": ImprovementFactory(column=ideas),
        "done_orphan": done_orphan,
        "run": run,
        "run_steps": run_steps,
        "payments_chat": ChatWebhook.objects.create(unit=payments, url="https://chat.example/p"),
        "org_chat": ChatWebhook.objects.create(url="https://chat.example/org"),
    }


def snapshot() -> str:
    digest = hashlib.sha256()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label not in {"retros", "improvements"}:
            continue
        rows = list(model.objects.order_by("pk").values())
        digest.update(json.dumps(rows, cls=DjangoJSONEncoder, sort_keys=True).encode())
    return digest.hexdigest()


def test_every_role_may_do_exactly_what_the_readme_table_says(w):
    table = readme_table()
    assert set(table) == set(ACTIONS), "README table and test name different actions"
    clients = {}
    for role in ROLES:
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(w[role])
    failures, cells = [], 0
    for action, requests in ACTIONS.items():
        for role, allowed in zip(ROLES, table[action], strict=True):
            for build in requests:
                with transaction.atomic():
                    url, data = build(w)
                    before = snapshot()
                    response = clients[role].post(url, data)
                    changed = snapshot() != before
                    transaction.set_rollback(True)
                cells += 1
                status = response.status_code
                where = f"{action} | {role} | POST {url} -> {status}"
                if status >= 500:
                    failures.append(f"{where}: server error")
                elif allowed and not (changed and status < 400):
                    failures.append(f"{where}: should be allowed and change something")
                elif not allowed and changed:
                    failures.append(f"{where}: refused, yet the database changed")
                elif not allowed and status != 403 and action not in REFUSED_BY_FORM:
                    failures.append(f"{where}: should be refused with 403")
    assert not failures, "\n".join(failures)
    # 22 rows, 54 requests, 7 roles: every cell of the table was tried.
    assert len(table) == 22
    assert cells == 7 * sum(len(requests) for requests in ACTIONS.values()) == 378


def test_a_member_of_another_unit_cannot_borrow_a_card_to_set_its_verdict(w, client):
    """The bypass the review found: move the card into your unit, set its verdict, move it back."""
    client.force_login(w["other"])
    url, data = _card_edit("done_card", unit=w["search"].pk)(w)

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Only staff and members of Payments hand its card to another unit." in response.text
    assert Improvement.objects.get(pk=w["done_card"].pk).unit == w["payments"]
    verdict = client.post(
        reverse("reporting:effect_verdict", args=[w["done_card"].pk]), {"verdict": "regressed"}
    )
    assert verdict.status_code == 403
    assert Improvement.objects.get(pk=w["done_card"].pk).effect_verdict == "pending"


def test_the_owner_cannot_push_a_card_onto_a_unit_they_are_not_in(w, client):
    client.force_login(w["owner"])
    url, data = _card_edit("done_card", unit=w["search"].pk)(w)

    response = client.post(url, data)

    assert "Only staff and members of Search give it a card." in response.text
    assert Improvement.objects.get(pk=w["done_card"].pk).unit == w["payments"]


def test_a_card_of_a_deactivated_unit_can_be_claimed_by_whoever_works_the_board(w, client):
    Unit.objects.filter(pk=w["payments"].pk).update(is_active=False)
    client.force_login(w["other"])
    url, data = _card_edit("done_card", unit=w["search"].pk)(w)

    client.post(url, data)

    assert Improvement.objects.get(pk=w["done_card"].pk).unit == w["search"]


@pytest.mark.parametrize("role", ROLES)
def test_the_board_rule_and_its_sql_twin_agree(w, role):
    user = w[role]
    expression = can_edit_board_expression(user)
    in_sql = Improvement.objects.annotate(editable=expression).values_list("editable", flat=True)
    assert bool(in_sql[0]) == can_edit_board(user)


def test_the_verdict_form_shows_only_to_those_who_may_set_it(w, client):
    Improvement.objects.filter(pk=w["done_card"].pk).update(expected_effect="10 min shorter")
    page = {}
    for role in ("owner", "other"):
        client.force_login(w[role])
        page[role] = client.get(reverse("reporting:dashboard_panel", args=["effects"])).text
    action = reverse("reporting:effect_verdict", args=[w["done_card"].pk])
    assert action in page["owner"]
    assert action not in page["other"]
