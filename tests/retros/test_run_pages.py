"""The run pages: start, run, watch (ETag/304), refusals shown as messages, fixed queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from retros.models import DeploymentRun, Finding, RunStep
from tests.retros.run_helpers import do_step, make_process, press, start_run

HTMX = {"HX-Request": "true"}


@pytest.fixture
def run(owner, duty_week):
    make_process("manual", "automated", "semi")
    return start_run(owner, timezone.now(), version="v42")


def test_the_process_map_and_the_duty_banner_lead_to_the_start_form(owner_client, duty_week):
    page = owner_client.get(reverse("deployments:process_map")).content.decode()
    assert 'href="/runs/start/"' in page
    assert "Deploy step by step" in page


def test_starting_a_run_opens_its_page_with_the_steps_in_order(owner_client, duty_week):
    make_process("manual", "dropped", "automated")
    response = owner_client.post(
        reverse("runs:run_start"),
        {"environment": "production", "version": " v1 ", "pipeline_id": ""},
    )
    run = DeploymentRun.objects.get()
    assert response["Location"] == run.get_absolute_url()
    assert (run.version, run.duty_week, run.state) == ("v1", duty_week, "running")
    page = owner_client.get(response["Location"]).content.decode()
    assert page.index("manual step 1") < page.index("automated step 3")
    assert "dropped step 2" not in page
    assert "Start waiting" in page, "an automated step is waited for"


def test_a_start_with_bad_input_re_renders_the_form_with_errors(owner_client, duty_week):
    response = owner_client.post(reverse("runs:run_start"), {"environment": "moon", "version": "x"})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert not DeploymentRun.objects.exists()


def test_a_step_press_by_htmx_answers_that_step_and_the_figures_out_of_band(owner_client, run):
    step = run.steps.first()
    response = press(owner_client, step, "start", headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<li class="run-step state-in_progress is-next" id="step-{step.pk}"'
    )
    assert '<div id="run-summary" hx-swap-oob="true">' in body
    assert "0 of 3 steps done or skipped" in body
    assert f'href="#step-at-{step.position}">Go to the current step' in body
    assert "<html" not in body and 'id="run-live"' not in body
    assert RunStep.objects.get(pk=step.pk).state == "in_progress"


def test_other_htmx_writes_answer_the_whole_live_part(owner_client, run):
    step = run.steps.first()
    run.step_action(step, "start", run.started_by)
    response = owner_client.post(
        reverse("runs:run_restart", args=[run.pk]), {"step": step.pk}, headers=HTMX
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="run-live"')
    assert response["ETag"].startswith('W/"run-')


def test_a_refused_press_by_htmx_is_a_409_that_says_who_was_first(owner_client, teammate, run):
    step = run.steps.first()
    run.step_action(step, "start", teammate)
    response = press(owner_client, step, "start", headers=HTMX)
    assert response.status_code == 409
    assert "already in progress: teammate did that at" in response.content.decode()


def test_a_refused_press_without_javascript_comes_back_as_a_message(owner_client, teammate, run):
    step = run.steps.first()
    run.step_action(step, "start", teammate)
    response = press(owner_client, step, "start", follow=True)
    assert response.redirect_chain[-1][0] == run.get_absolute_url()
    assert "already in progress: teammate did that" in response.content.decode()


def test_a_skip_without_a_reason_is_a_400(owner_client, run):
    response = press(owner_client, run.steps.first(), "skip", headers=HTMX)
    assert response.status_code == 400
    assert RunStep.objects.filter(state="todo").count() == 3


def test_the_poll_answers_304_until_something_changes(owner_client, client, outsider, run):
    client.force_login(outsider)
    url = reverse("runs:run_live", args=[run.pk])
    first = client.get(url, headers=HTMX)
    assert first.status_code == 200
    etag = first["ETag"]
    assert client.get(url, headers={**HTMX, "If-None-Match": etag}).status_code == 304
    run.step_action(run.steps.first(), "start", run.started_by)
    changed = client.get(url, headers={**HTMX, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "In progress" in changed.content.decode()


def test_a_note_by_htmx_appears_in_the_fragment_and_the_retro(owner_client, run, duty_week):
    step = run.steps.last()
    response = owner_client.post(
        reverse("runs:run_note", args=[run.pk]),
        {"kind": "idea", "text": "Automate it", "step": step.pk},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Automate it" in response.content.decode()
    finding = Finding.objects.get()
    assert (finding.run_step, finding.retro.duty_week) == (step, duty_week)


def test_a_note_for_a_step_of_another_run_is_refused(owner_client, run, owner):
    other = start_run(owner, timezone.now())
    response = owner_client.post(
        reverse("runs:run_note", args=[run.pk]),
        {"kind": "idea", "text": "x", "step": other.steps.first().pk},
        headers=HTMX,
    )
    assert response.status_code == 400
    assert not Finding.objects.exists()


def test_a_finished_run_page_is_the_record_with_its_deployment(owner_client, run, owner):
    for step in run.steps.all():
        do_step(run, step, owner)
    response = owner_client.post(reverse("runs:run_finish", args=[run.pk]), {"result": "success"})
    assert response.status_code == 302
    run.refresh_from_db()
    page = owner_client.get(run.get_absolute_url()).content.decode()
    assert "Finished: Success" in page
    assert f'href="/deployments/{run.deployment_id}/"' in page
    assert 'name="action"' not in page, "an ended run has no buttons"
    assert "Step done" in page and "Run finished" in page


def test_unknown_runs_and_steps_are_404(owner_client):
    assert owner_client.get("/runs/999999/").status_code == 404
    assert owner_client.post("/runs/steps/999999/act/", {"action": "start"}).status_code == 404
    assert owner_client.post("/runs/999999/finish/").status_code == 404


def test_the_run_list_shows_runs_with_their_progress(owner_client, run, owner):
    run.step_action(run.steps.first(), "skip", owner, text="Covered")
    page = owner_client.get(reverse("runs:run_list")).content.decode()
    assert f"#{run.pk}" in page and "1 / 3" in page


def run_with(owner, steps: int, notes: int):
    make_process(*(["manual", "semi", "automated"] * steps)[:steps])
    run = start_run(owner, timezone.now())
    all_steps = list(run.steps.all())
    for index, step in enumerate(all_steps[: steps // 2]):
        run.step_action(step, "start", owner)
        run.step_action(step, "done" if index % 3 else "block", owner, text="x")
    for n in range(notes):
        run.add_note(owner, "pain", f"Note {n}", step=all_steps[n % steps])
    return run


def count_queries(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code in (200, 304)
    return len(queries), response


def test_the_run_page_and_its_poll_take_a_fixed_number_of_queries(owner_client, owner, duty_week):
    small = run_with(owner, steps=3, notes=1)
    large = run_with(owner, steps=40, notes=20)
    pages = [count_queries(owner_client, r.get_absolute_url())[0] for r in (small, large)]
    assert pages[0] == pages[1] <= 12, pages
    polls = []
    for each in (small, large):
        url = reverse("runs:run_live", args=[each.pk])
        etag = owner_client.get(url, headers=HTMX)["ETag"]
        polls.append(count_queries(owner_client, url, **HTMX, **{"If-None-Match": etag}))
    assert [response.status_code for _, response in polls] == [304, 304]
    assert polls[0][0] == polls[1][0] <= 5, polls


def test_a_deployment_written_by_a_run_links_back_to_it(owner_client, run, owner):
    deployment = run.abort(owner, "Wrong build")
    page = owner_client.get(deployment.get_absolute_url()).content.decode()
    assert f'href="/runs/{run.pk}/"' in page


def test_every_state_a_run_and_its_steps_can_be_in_renders(owner_client, owner, duty_week):
    make_process("manual", "semi", "automated", "manual", "manual")
    run = start_run(owner, timezone.now())
    first, second, third, fourth, _ = run.steps.all()
    do_step(run, first, owner)
    run.step_action(second, "start", owner)
    run.step_action(third, "block", owner, text="Runner <b>down</b>")
    run.step_action(fourth, "skip", owner, text="Covered by CI")
    run.add_note(owner, "question", "Why?", step=fourth)
    first.process_step.delete()  # a step removed from the process since
    pages = [owner_client.get(run.get_absolute_url())]
    assert all(
        state in pages[0].content.decode()
        for state in ["To do", "In progress", "Blocked", "Done", "Skipped"]
    )
    assert "Runner &lt;b&gt;down&lt;/b&gt;" in pages[0].content.decode()
    run.abort(owner, "Stopped")
    pages.append(owner_client.get(run.get_absolute_url()))
    nobody = start_run(owner, timezone.now() - datetime.timedelta(days=400))
    nobody.started_by = None
    nobody.save()
    pages.append(owner_client.get(nobody.get_absolute_url()))
    pages.append(owner_client.get(reverse("runs:run_list")))
    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert "Aborted" in pages[1].content.decode() and "Stopped" in pages[1].content.decode()
    assert "in a week nobody was on duty" in pages[2].content.decode()


def test_a_step_press_takes_a_fixed_number_of_queries(owner_client, owner, duty_week):
    counts = []
    for size in (3, 40):
        run = run_with(owner, steps=size, notes=2)
        step = run.steps.filter(state="todo").first()
        with CaptureQueriesContext(connection) as queries:
            response = press(owner_client, step, "start", headers=HTMX)
        assert response.status_code == 200
        counts.append(
            sum(not q["sql"].startswith(("SAVEPOINT", "RELEASE")) for q in queries.captured_queries)
        )
    assert counts[0] == counts[1] <= 14, counts
