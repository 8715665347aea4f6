"""Did it help?: which deployments a finished card is compared over, and which other cards
are named as mixed into its comparison.

The dashboard reads the windows of many cards at once (numbered in the database), a card's
page reads its own (two short reads): both must compare the very same deployments.
"""

import datetime
import random

import pytest
from django.utils import timezone

from improvements.reporting import metrics
from tests.factories import DeploymentFactory, ImprovementFactory
from tests.retros.run_helpers import make_process

from .test_step_costs import deploy as deploy_run

T0 = timezone.make_aware(datetime.datetime(2025, 3, 3), datetime.UTC)  # a Monday, midnight


def at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def deployment(hours: float, minutes: int, hands_on: int = 30, environment="production"):
    return DeploymentFactory(
        started_at=at(hours),
        finished_at=at(hours) + datetime.timedelta(minutes=minutes),
        hands_on_minutes=hands_on,
        environment=environment,
    )


def done_card(columns, hours: float, title: str = "", **fields):
    return ImprovementFactory(
        column=columns["Done"], done_at=at(hours), title=title or f"Done at {hours} h", **fields
    )


# --- The same deployments, whatever the number of cards -----------------------------------------


@pytest.fixture
def long_history(db):
    """150 hourly production deployments created out of time order, slow and fast in runs of
    five, with a second deployment starting at the very same moment every seventh hour."""
    planned = []
    for hour in range(1, 151):
        slow = (hour // 5) % 2
        planned.append((hour, 40 + 30 * slow + hour * 7 % 11, 10 + hour * 3 % 7))
        if hour % 7 == 0:
            planned.append((hour, 95 - hour % 13, 50 - hour % 9))  # a twin start
    random.Random(19).shuffle(planned)  # ids say nothing about start times
    for hours, minutes, hands_on in planned:
        deployment(hours, minutes, hands_on)
    deployment(60.5, 5, environment="staging")  # another environment: never compared
    return len(planned)


def test_many_cards_compare_the_same_deployments_as_each_card_alone(columns, long_history):
    cards = [
        # Before every deployment: nothing before it, the first six after.
        done_card(columns, 0.5, expected_effect="Faster deployments"),
        done_card(columns, 30.5, expected_effect="Less hands-on toil"),
        # Far from the first two: its deployments are read as a range of their own.
        done_card(columns, 120.5, expected_effect="Faster deployments"),
        # After every deployment: the latest 54 before it, none after.
        done_card(columns, 200, expected_effect="Faster deployments"),
    ]

    together = metrics.effects_of(cards, window=6)

    alone = [metrics.effects_of([card], window=6)[0] for card in cards]
    assert [row["improvement"] for row in together] == cards
    assert together == alone
    counts = [(row["before_count"], row["after_count"]) for row in together]
    assert counts == [(0, 6), (6, 6), (6, 6), (6, 0)]
    assert [row["figure"] for row in together] == ["elapsed", "hands_on", "elapsed", "elapsed"]
    # The history before the window feeds the autocorrelation: runs of slow deployments.
    far = together[2]["comparison"]
    assert far.autocorrelation is not None and far.widened


def test_the_card_page_compares_the_same_deployments_as_the_dashboard(
    owner_client, columns, long_history
):
    card = done_card(columns, 120.5, expected_effect="Faster deployments")
    other = done_card(columns, 100, expected_effect="Faster deployments")
    dashboard = {row["improvement"]: row for row in metrics.effects_of([card, other])}

    page = owner_client.get(card.get_absolute_url()).content.decode()

    assert dashboard[card]["before_count"] == dashboard[card]["after_count"] == 12
    assert dashboard[card]["sentence"] in page


# --- Other cards done inside the window -----------------------------------------------------------


def names(row) -> list[str]:
    return [other["title"] for other in row["others_done"]]


def test_only_cards_done_between_the_first_and_last_deployment_shown_are_named(columns, db):
    for hour in range(1, 33):
        deployment(hour, 40)
    # Shown for `main` (window 6): the deployments of hours 9-14 and 15-20; 1-8 are history.
    main = done_card(columns, 14.5, "Main", expected_effect="Faster deployments")
    # Shown for `later`: hours 21-26 and 27-32.
    later = done_card(columns, 26.5, "Later", expected_effect="Faster deployments")
    done_card(columns, 8.5, "In the history only")
    last = done_card(columns, 19.5, "Just before the last shown")  # created before `first`
    twin = done_card(columns, 9.5, "Same moment, created first")
    first = done_card(columns, 9.5, "Just after the first shown")
    twin.save()  # its row version now lies after `first`'s in the table
    done_card(columns, 20.5, "Just after the last shown")
    done_card(columns, 30.5, "Inside the later window")

    rows = {row["improvement"]: row for row in metrics.effects_of([main, later], window=6)}

    assert names(rows[main]) == [twin.title, first.title, last.title]
    assert [other["pk"] for other in rows[main]["others_done"]] == [twin.pk, first.pk, last.pk]
    assert names(rows[later]) == ["Inside the later window"]


def test_the_card_page_names_the_window_and_dates_each_card_mixed_in(owner_client, columns, db):
    for hour in range(1, 25):
        deployment(hour, 60 if hour <= 12 else 30)
    card = done_card(columns, 12.5, "Automate the smoke test", expected_effect="Faster")
    done_card(columns, 47 + 24, "Drop the manual changelog")  # 4 March, after the window
    mixed = done_card(columns, 20.5, "Pin the base image")

    page = owner_client.get(card.get_absolute_url()).content.decode()

    assert (
        "The 12 production deployments that started before the done date (3 Mar 2025) "
        "against the 12 from it on; elapsed minutes."
    ) in page
    assert (
        "Also finished inside this window, so their effect is mixed in: "
        f'<a href="{mixed.get_absolute_url()}">Pin the base image</a> (3 Mar).'
    ) in page
    # Minutes of separate deployments are independent here: the test is not widened.
    assert "so the test was widened" not in page


def test_a_card_targeting_a_step_names_its_window_and_environment_too(owner_client, owner, columns):
    step = make_process("manual")[0]
    done_at = timezone.now() - datetime.timedelta(days=10)
    for day, minutes in [(-2, 20), (-1, 22), (1, 5), (2, 6)]:
        deploy_run(owner, {1: minutes}, done_at + datetime.timedelta(days=day))
    card = ImprovementFactory(
        title="Script the freeze", target_step=step, column=columns["Done"], done_at=done_at
    )

    page = owner_client.get(card.get_absolute_url()).content.decode()

    assert "The 12 production deployments that started before the done date" in page
    assert "against the 12 from it on; minutes of the targeted step." in page
