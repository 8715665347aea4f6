"""Rules the database itself keeps, whatever the views do."""

import pytest
from django.db import IntegrityError, transaction

from retros.models import DutyWeek, Retrospective
from tests.factories import FindingFactory, RetrospectiveFactory


def test_one_duty_week_per_week(duty_week):
    with pytest.raises(IntegrityError, match="week_start"):
        DutyWeek.objects.create(week_start=duty_week.week_start, unit=duty_week.unit)


def test_one_retro_per_duty_week(duty_week):
    RetrospectiveFactory(duty_week=duty_week)

    with pytest.raises(IntegrityError, match="duty_week_id"):
        Retrospective.objects.create(duty_week=duty_week)


@pytest.mark.parametrize("field", ["pain_rating", "confidence_rating"])
@pytest.mark.parametrize("value", [0, 6])
def test_ratings_go_from_1_to_5(duty_week, field, value):
    retro = RetrospectiveFactory(duty_week=duty_week)

    with pytest.raises(IntegrityError, match=f"retro_{field}_1_to_5"), transaction.atomic():
        Retrospective.objects.filter(pk=retro.pk).update(**{field: value})


def test_a_duty_week_with_a_retro_cannot_be_deleted(duty_week):
    from django.db.models import ProtectedError

    RetrospectiveFactory(duty_week=duty_week)

    with pytest.raises(ProtectedError, match=r"Retrospective\.duty_week"):
        duty_week.delete()


def test_the_retro_page_and_submit_use_a_fixed_number_of_queries(
    owner_client, duty_week, owner, django_assert_max_num_queries
):
    retro = RetrospectiveFactory(duty_week=duty_week, facilitator=owner)
    retro.attendees.add(owner, duty_week.qa_person, duty_week.platform_person)
    for n in range(30):
        FindingFactory(retro=retro, text=f"finding {n}", author=owner)

    # 17: the meeting's groups and votes are read once each, whatever their number.
    with django_assert_max_num_queries(17):
        page = owner_client.get(retro.get_absolute_url())
    assert page.text.count('class="finding-edit"') == 30

    with django_assert_max_num_queries(12):  # 11, and the outbox message it queues
        owner_client.post(f"/retros/{retro.pk}/submit/")
    retro.refresh_from_db()
    assert retro.is_submitted
