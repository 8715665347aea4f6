"""The board page: columns, cards, WIP limits, filters, older finished cards."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from improvements.models import FindingLink, Improvement
from retros.people import display_name
from retros.weeks import monday_of
from tests.factories import (
    DutyWeekFactory,
    FindingFactory,
    ImprovementFactory,
    ProcessStepFactory,
    RetrospectiveFactory,
    UnitFactory,
)

_weeks_back = iter(range(1, 10_000))


def raise_in_a_retro(card):
    """Link `card` to a finding of a new retro, each in its own past week."""
    week = monday_of(timezone.localdate()) - datetime.timedelta(weeks=next(_weeks_back))
    retro = RetrospectiveFactory(duty_week=DutyWeekFactory(week_start=week))
    FindingLink.objects.create(finding=FindingFactory(retro=retro), improvement=card)


@pytest.fixture
def card_with_every_fact(columns, unit, owner):
    """card_with_every_fact(title, step, retros): a card in Next showing all a card can.

    The unit, the owner as assignee, the target `step`, a confirmed verdict, `retros` raised in.
    """

    def make(title, step, retros):
        card = ImprovementFactory(
            title=title,
            column=columns["Next"],
            unit=unit,
            assignee=owner,
            target_step=ProcessStepFactory(title=step),
            effect_verdict=Improvement.Verdict.CONFIRMED,
        )
        for _ in range(retros):
            raise_in_a_retro(card)
        return card

    return make


def fill_to(column, cards, wip_limit):
    """Give `column` a WIP limit and that many cards."""
    column.wip_limit = wip_limit
    column.save()
    ImprovementFactory.create_batch(cards, column=column)


def column_html(response, column):
    content = response.content.decode()
    start = content.rindex("<section", 0, content.index(f'id="column-{column.pk}"'))
    end = content.find("</section>", start)
    return content[start:end]


def test_it_shows_every_card_with_what_matters_on_it(
    owner_client, columns, owner, card_with_every_fact
):
    card = card_with_every_fact("Automate the smoke test", "Run smoke tests by hand", retros=2)
    html = column_html(owner_client.get(reverse("board:board")), columns["Next"])
    assert "Automate the smoke test" in html
    assert f"cat-{card.category_id}" in html
    assert "<b>Automate</b>" in html
    assert "Payments" in html
    assert f"<span>{display_name(owner)}</span>" in html
    assert "0d" in html
    assert "×2" in html
    assert "Run smoke tests by hand" in html
    assert "Helped" in html


def test_a_pending_verdict_shows_no_badge(owner_client, columns):
    ImprovementFactory(column=columns["Next"])
    html = column_html(owner_client.get(reverse("board:board")), columns["Next"])
    assert "verdict-" not in html


def test_a_column_over_its_wip_limit_is_marked_with_its_count(owner_client, columns):
    fill_to(columns["In progress"], cards=3, wip_limit=2)
    html = column_html(owner_client.get(reverse("board:board")), columns["In progress"])
    assert "over-limit" in html
    assert "3 / 2" in html
    assert "over WIP limit" in html


def test_a_column_at_its_wip_limit_is_not_marked(owner_client, columns):
    fill_to(columns["In progress"], cards=2, wip_limit=2)
    html = column_html(owner_client.get(reverse("board:board")), columns["In progress"])
    assert "over WIP limit" not in html


def test_old_done_cards_stay_off_the_board_until_asked_for(owner_client, columns):
    long_ago = timezone.now() - datetime.timedelta(weeks=5)
    ImprovementFactory(
        title="Finished long ago", column=columns["Done"], column_entered_at=long_ago
    )
    ImprovementFactory(title="Finished last week", column=columns["Done"])
    response = owner_client.get(reverse("board:board"))
    assert "Finished last week" in response.content.decode()
    assert "Finished long ago" not in response.content.decode()
    assert "Show older cards" in response.content.decode()
    response = owner_client.get(reverse("board:board") + "?all=1")
    assert "Finished long ago" in response.content.decode()


def test_archived_cards_are_not_on_the_board(owner_client, columns):
    ImprovementFactory(title="Archived one", archived_at=timezone.now())
    assert "Archived one" not in owner_client.get(reverse("board:board")).content.decode()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?category=flaky-e2e", {"Flaky"}),
        ("?q=toggle", {"Toggle"}),
        ("?assignee=teammate", {"Toggle"}),
        ("?mine=1", {"Mine"}),
        ("", {"Flaky", "Toggle", "Mine", "Other unit"}),
    ],
)
def test_filters_in_the_url_narrow_the_board(owner_client, owner, teammate, unit, query, expected):
    from improvements.models import Category

    ImprovementFactory(title="Flaky", category=Category.objects.get(slug="flaky-e2e"), unit=unit)
    ImprovementFactory(title="Toggle", description="a release TOGGLE", assignee=teammate, unit=unit)
    ImprovementFactory(title="Mine", assignee=owner, unit=unit)
    ImprovementFactory(title="Other unit", unit=UnitFactory())
    response = owner_client.get(reverse("board:board") + query)
    shown = {c.title for col in response.context["columns"] for c in col.cards}
    assert shown == expected


def test_the_unit_filter_keeps_the_full_wip_count(owner_client, unit, columns):
    columns["In progress"].wip_limit = 1
    columns["In progress"].save()
    ImprovementFactory(title="Ours", unit=unit, column=columns["In progress"])
    ImprovementFactory(title="Theirs", column=columns["In progress"])
    response = owner_client.get(reverse("board:board") + f"?unit={unit.pk}")
    html = column_html(response, columns["In progress"])
    assert "Ours" in html and "Theirs" not in html
    assert "2 / 1" in html and "1 shown" in html


def test_nonsense_filters_are_ignored(owner_client):
    ImprovementFactory(title="Still here")
    response = owner_client.get(reverse("board:board") + "?unit=abc&category=%%%")
    assert response.status_code == 200
    assert "Still here" in response.content.decode()


def test_an_outsider_sees_the_board_without_move_or_add_controls(outsider_client):
    ImprovementFactory(title="Visible")
    content = outsider_client.get(reverse("board:board")).content.decode()
    assert "Visible" in content
    assert 'data-can-edit="false"' in content
    assert "quick-add" not in content


def test_the_board_costs_the_same_queries_for_many_cards(
    owner_client, columns, django_assert_max_num_queries
):
    def fill(n):
        for i in range(n):
            card = ImprovementFactory(column=list(columns.values())[i % 4], unit=UnitFactory())
            raise_in_a_retro(card)

    fill(3)
    with django_assert_max_num_queries(10) as few:
        owner_client.get(reverse("board:board") + "?unit=1")
    fill(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("board:board") + "?unit=1")
    assert response.status_code == 200


def test_card_text_is_escaped_on_the_board(owner_client, columns, unit):
    step = ProcessStepFactory(title="<b>step</b>")
    ImprovementFactory(
        title="<script>alert(1)</script>", column=columns["Next"], unit=unit, target_step=step
    )
    html = column_html(owner_client.get(reverse("board:board")), columns["Next"])
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;step&lt;/b&gt;" in html


def test_a_card_is_a_link_and_its_facts_in_under_400_bytes(
    owner_client, columns, owner, card_with_every_fact
):
    owner.first_name, owner.last_name = "Olga", "Owner"
    owner.save()
    card = card_with_every_fact(
        "Automate the production smoke test with the e2e suite #1234",
        "Run the manual regression checklist",
        retros=3,
    )
    html = column_html(owner_client.get(reverse("board:board")), columns["Next"])
    start = html.index(f'<li class="board-card cat-{card.category_id}" id="card-{card.pk}"')
    markup = html[start : html.index("</li>", start) + 5]
    assert len(markup.encode()) < 400, markup
    assert "<form" not in markup and "csrfmiddlewaretoken" not in markup
    assert f'<a href="{reverse("board:improvement_detail", args=[card.pk])}">' in markup
    assert "Olga Owner" in markup and "×3" in markup


def test_the_board_names_the_move_url_once_for_board_js(owner_client, columns):
    ImprovementFactory(column=columns["Next"])
    content = owner_client.get(reverse("board:board") + "?q=a").content.decode()
    assert f'data-move-url="{reverse("board:card_move", args=[0])}?q=a"' in content
    assert content.count("/move/") == 1
