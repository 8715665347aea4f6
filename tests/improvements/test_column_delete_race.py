"""Deleting a column while a card moves into it: a clear refusal or a clean delete, never a 500."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from improvements import forms as board_forms
from improvements.models import Column, Improvement, MoveError
from retros.models import Unit
from tests.factories import ImprovementFactory, UnitFactory, UserFactory
from tests.improvements.board_helpers import column_settings_form

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def _platform_client():
    member = UserFactory()
    UnitFactory(kind=Unit.Kind.PLATFORM, members=[member])
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client


def _in_a_thread(job):
    """Run `job` on its own database connection, as another request would, and wait for it."""
    errors = []

    def run():
        try:
            job()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_a_card_arriving_after_the_check_keeps_the_column_and_says_why(monkeypatch):
    client = _platform_client()
    spare = Column.objects.create(name="Spare", position=99, state=Column.State.ACTIVE)
    card = ImprovementFactory()
    columns = list(Column.objects.order_by("position"))
    checked = board_forms.BaseColumnFormSet.clean

    def clean_then_a_card_arrives(formset):
        checked(formset)  # the column was empty here ...
        _in_a_thread(lambda: Improvement.objects.get(pk=card.pk).move_to(spare.pk))

    monkeypatch.setattr(board_forms.BaseColumnFormSet, "clean", clean_then_a_card_arrives)
    response = client.post(
        reverse("column_settings"), column_settings_form(columns, Spare={"DELETE": "on"})
    )

    assert response.status_code == 200
    assert "took a card while you were editing" in response.content.decode()
    assert Column.objects.filter(pk=spare.pk).exists()
    assert Improvement.objects.get(pk=card.pk).column_id == spare.pk


@pytest.mark.django_db(transaction=True)
def test_racing_deletes_and_moves_never_answer_500_nor_lose_a_card():
    client = _platform_client()
    cards = [ImprovementFactory() for _ in range(3)]
    statuses, move_refusals, errors = [], [], []
    rounds = 12
    for round_ in range(rounds):
        spare = Column.objects.create(
            name=f"Spare {round_}", position=50 + round_, state=Column.State.ACTIVE
        )
        columns = list(Column.objects.order_by("position"))
        data = column_settings_form(columns, **{spare.name: {"DELETE": "on"}})
        card = cards[round_ % len(cards)]
        start = threading.Barrier(2)

        def delete():
            try:
                start.wait()
                statuses.append(client.post(reverse("column_settings"), data).status_code)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connections.close_all()

        def move():
            try:
                start.wait()
                Improvement.objects.get(pk=card.pk).move_to(spare.pk)
            except MoveError:
                move_refusals.append(round_)  # the column was gone first: refused, fine
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=delete), threading.Thread(target=move)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        if Column.objects.filter(pk=spare.pk).exists():
            # The card won: the column stays, with the card in it; take it out for the next round.
            Improvement.objects.get(pk=card.pk).move_to(Column.objects.order_by("position")[0])
            Column.objects.filter(pk=spare.pk).delete()

    assert not errors, errors
    assert len(statuses) == rounds
    assert set(statuses) <= {200, 302}, statuses
    assert Improvement.objects.filter(pk__in=[c.pk for c in cards]).count() == len(cards)
