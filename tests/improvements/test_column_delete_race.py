"""Deleting a column while a card moves into it: a clear refusal or a clean delete, never a 500."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from improvements.forms import columns as board_forms
from improvements.models import Column, Improvement, MoveError
from retros.models import Unit
from tests.factories import ImprovementFactory, UnitFactory, UserFactory
from tests.improvements.board_helpers import column_settings_form
from tests.threads import at_once

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL"
)


def _platform_client():
    member = UserFactory()
    UnitFactory(kind=Unit.Kind.PLATFORM, members=[member])
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client


@pytest.mark.django_db(transaction=True)
def test_a_card_arriving_after_the_check_keeps_the_column_and_says_why(monkeypatch):
    client = _platform_client()
    spare = Column.objects.create(name="Spare", position=99, state=Column.State.ACTIVE)
    card = ImprovementFactory()
    columns = list(Column.objects.order_by("position"))
    checked = board_forms.BaseColumnFormSet.clean

    def clean_then_a_card_arrives(formset):
        checked(formset)  # the column was empty here ...
        # ... and another request moves a card into it before the delete.
        at_once([lambda: Improvement.objects.get(pk=card.pk).move_to(spare.pk)])

    monkeypatch.setattr(board_forms.BaseColumnFormSet, "clean", clean_then_a_card_arrives)
    response = client.post(
        reverse("board:column_settings"), column_settings_form(columns, Spare={"DELETE": "on"})
    )

    assert response.status_code == 200
    assert "took a card while you were editing" in response.content.decode()
    assert Column.objects.filter(pk=spare.pk).exists()
    assert Improvement.objects.get(pk=card.pk).column_id == spare.pk


@pytest.mark.django_db(transaction=True)
def test_racing_deletes_and_moves_never_answer_500_nor_lose_a_card():
    client = _platform_client()
    cards = [ImprovementFactory() for _ in range(3)]
    statuses = []
    rounds = 12
    for round_ in range(rounds):
        spare = Column.objects.create(
            name=f"Spare {round_}", position=50 + round_, state=Column.State.ACTIVE
        )
        columns = list(Column.objects.order_by("position"))
        data = column_settings_form(columns, **{spare.name: {"DELETE": "on"}})
        card = cards[round_ % len(cards)]
        delete, _moved = at_once(
            [
                lambda: client.post(reverse("board:column_settings"), data),
                lambda: Improvement.objects.get(pk=card.pk).move_to(spare.pk),
            ],
            refused=MoveError,  # the column was gone first: refused, fine
        )
        statuses.append(delete.status_code)
        if Column.objects.filter(pk=spare.pk).exists():
            # The card won: the column stays, with the card in it; take it out for the next round.
            Improvement.objects.get(pk=card.pk).move_to(Column.objects.order_by("position")[0])
            Column.objects.filter(pk=spare.pk).delete()

    assert len(statuses) == rounds
    assert set(statuses) <= {200, 302}, statuses
    assert Improvement.objects.filter(pk__in=[c.pk for c in cards]).count() == len(cards)
