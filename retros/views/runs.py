"""Views for deployment runs: start one, do it step by step, watch it live, read it afterwards."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q, Sum
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST, require_safe

from ..forms.runs import RunNoteForm, RunStartForm
from ..http import HtmxHttpRequest
from ..models import (
    Deployment,
    DeploymentRun,
    DutyWeek,
    Finding,
    ProcessStep,
    RunRefused,
    RunStep,
    revise_how_to,
)
from ..permissions import can_act_on_run, can_edit_how_to, can_start_run
from ..templatetags.markdown_extras import render_markdown

RUNS_PER_PAGE = 50


def _get_run(pk: int, *, lock: bool = False) -> DeploymentRun:
    runs = DeploymentRun.objects.select_related("duty_week__unit")
    if lock:
        runs = runs.select_for_update(of=("self",))
    return get_object_or_404(runs, pk=pk)


def _require_actor(request: HtmxHttpRequest, run: DeploymentRun) -> None:
    if not can_act_on_run(request.user, run):
        raise PermissionDenied(
            "Only the people on duty the week of this run (or staff) act on it; you can watch."
        )


def _run_etag(run: DeploymentRun, can_act: bool) -> str:
    # Every change to a run, its steps, notes and how-tos bumps run.revision.
    return f'W/"run-{run.pk}-{run.revision}-{int(can_act)}"'


# What each step action's button says: (for a manual step, for an automated one), as (its
# text, its accessible name before the step's title; the name contains the text, WCAG 2.5.3),
# and the text field an action needs (its placeholder and length).
BUTTON_LABELS = {
    "start": (("Start", "Start"), ("Start waiting", "Start waiting for")),
    "done": (("Done", "Done with"), ("Confirm done", "Confirm done:")),
    "unblock": (("Unblocked: resume", "Unblocked: resume"),) * 2,
}
TEXT_ACTIONS = {
    "block": ("What blocks it?", "What blocks", 200, "small danger"),
    "skip": ("Why skip it?", "Why skip", 300, "small"),
}


@functools.lru_cache(maxsize=256)
def how_to_html(text: str) -> SafeString:
    """A how-to rendered once per text: every watcher's poll shows the same 40 how-tos."""
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by nh3


class _StepUrls:
    """Step URLs built from one reverse() each, not one per step and form."""

    def __init__(self, run: DeploymentRun):
        self.act = reverse("runs:run_step_act", args=[0]).replace("/0/", "/{}/")
        self.how_to = reverse("runs:run_step_how_to", args=[0]).replace("/0/", "/{}/")
        self.restart = reverse("runs:run_restart", args=[run.pk])


def _decorate(
    step: RunStep,
    run: DeploymentRun,
    can_act: bool,
    can_edit: Callable[[RunStep], bool] | None,
    urls: _StepUrls,
) -> None:
    """Give a step what its template needs: its buttons, URLs and rendered how-to."""
    acting = can_act and run.is_running
    step.act_url = urls.act.format(step.pk)
    step.buttons = []
    for action in step.allowed_actions() if acting else []:
        if action in TEXT_ACTIONS:
            placeholder, question, length, css = TEXT_ACTIONS[action]
            step.buttons.append(
                {
                    "action": action,
                    "label": "Blocked" if action == "block" else "Skip",
                    "aria": f"{question} “{step.title}”",
                    "placeholder": placeholder,
                    "maxlength": length,
                    "css": css,
                }
            )
        else:
            label, aria = BUTTON_LABELS[action][0 if step.is_manual else 1]
            primary = action == "done" or (action == "start" and step.is_next)
            step.buttons.append(
                {
                    "action": action,
                    "label": label,
                    "aria": f"{aria} “{step.title}”",
                    "css": "primary" if primary else "",
                }
            )
    step.can_edit_how_to = (
        acting and can_edit is not None and step.process_step_id is not None and can_edit(step)
    )
    step.how_to_url = urls.how_to.format(step.pk)
    step.restart_url = urls.restart if acting and step.state != RunStep.State.TODO else ""
    step.how_to_html = how_to_html(step.how_to) if step.how_to else ""


def _how_to_editor(user: User) -> Callable[[RunStep], bool]:
    """can_edit_how_to, for the steps of one run (the user's units are read once)."""
    return lambda step: can_edit_how_to(user, step.process_step)


def _counts(run: DeploymentRun) -> dict[str, int]:
    counts = run.steps.aggregate(
        hands_on=Sum("hands_on_seconds"),
        waiting=Sum("waiting_seconds"),
        blocked=Sum("blocked_seconds"),
        ended=Count("pk", filter=Q(state__in=list(RunStep.ENDED))),
        total=Count("pk"),
        first_open=Min("position", filter=~Q(state__in=list(RunStep.ENDED))),
    )
    return {name: value or 0 for name, value in counts.items()}


def _live_context(request: HtmxHttpRequest, run: DeploymentRun, can_act: bool) -> dict[str, Any]:
    """Everything the live part of the run page shows, in a fixed number of queries."""
    steps = list(run.steps.select_related("acted_by", "process_step"))
    notes = list(
        Finding.objects.filter(run=run).select_related("author", "run_step").order_by("pk")
    )
    events = list(run.events.select_related("actor", "step").order_by("-at", "-pk"))
    can_edit = _how_to_editor(request.user) if can_act and run.is_running else None
    urls = _StepUrls(run)
    counts = {"hands_on": 0, "waiting": 0, "blocked": 0, "ended": 0, "total": len(steps)}
    notes_by_step: dict[int | None, int] = {}
    for note in notes:
        notes_by_step[note.run_step_id] = notes_by_step.get(note.run_step_id, 0) + 1
    next_step = next((step for step in steps if step.state not in RunStep.ENDED), None)
    counts["first_open"] = next_step.position if next_step else 0
    for step in steps:
        step.is_next = step is next_step and run.is_running
        step.note_count = notes_by_step.get(step.pk, 0)
        _decorate(step, run, can_act, can_edit, urls)
        counts["hands_on"] += step.hands_on_seconds
        counts["waiting"] += step.waiting_seconds
        counts["blocked"] += step.blocked_seconds
        counts["ended"] += step.state in RunStep.ENDED
    return {
        "run": run,
        "steps": steps,
        "notes": notes,
        "events": events,
        "counts": counts,
        "can_act": can_act,
        "finish_results": DeploymentRun.FINISH_RESULTS,
        "etag": _run_etag(run, can_act),
    }


def _render_pressed(request: HtmxHttpRequest, run: DeploymentRun, step: RunStep) -> HttpResponse:
    """After a step press by htmx: that step, and the run's figures out of band.

    The rest of the page (timeline, the next step's highlight) catches up at the next poll,
    which the changed ETag makes fetch everything.
    """
    counts = _counts(run)
    step.is_next = run.is_running and counts["first_open"] == step.position
    step.note_count = Finding.objects.filter(run_step=step).count()
    can_edit = _how_to_editor(request.user)
    _decorate(step, run, True, can_edit, _StepUrls(run))
    context = {"run": run, "step": step, "counts": counts}
    return render(request, "retros/run_detail.html#step-pressed", context)


def _render_live(request: HtmxHttpRequest, run: DeploymentRun, can_act: bool) -> HttpResponse:
    context = _live_context(request, run, can_act)
    response = render(request, "retros/run_detail.html#live", context)
    response["ETag"] = context["etag"]
    response["Cache-Control"] = "private, no-cache"
    return response


def _answer(
    request: HtmxHttpRequest, run: DeploymentRun, refusal: RunRefused | None = None
) -> HttpResponse:
    """After a write: the live fragment for htmx, else back to the run page with a message."""
    if refusal is not None:
        if request.htmx:
            return HttpResponse(str(refusal), status=refusal.status, content_type="text/plain")
        messages.error(request, str(refusal))
    if request.htmx:
        return _render_live(request, run, can_act=True)
    return redirect(run)


@require_safe
def run_list(request: HtmxHttpRequest) -> HttpResponse:
    runs = (
        DeploymentRun.objects.select_related("duty_week__unit", "started_by", "deployment")
        .annotate(
            step_count=Count("steps"),
            steps_ended=Count("steps", filter=Q(steps__state__in=list(RunStep.ENDED))),
        )
        .order_by("-started_at", "-pk")
    )
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    week = DutyWeek.objects.select_related("unit").current()
    return render(
        request,
        "retros/run_list.html",
        {"page": page, "can_start": can_start_run(request.user, week), "week": week},
    )


def run_start(request: HtmxHttpRequest) -> HttpResponse:
    """The form to start a run (GET) and the start itself (POST), for the people on duty."""
    week = DutyWeek.objects.select_related("unit").current()
    allowed = can_start_run(request.user, week)
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("Only the people on duty this week (or staff) start a run.")
        form = RunStartForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    run = DeploymentRun.start(request.user, **form.cleaned_data)
            except IntegrityError:  # the same pipeline started a moment ago by someone else
                form.add_error("pipeline_id", "A run was just started for this pipeline.")
            else:
                messages.success(request, f"Run #{run.pk} started. Work through the steps below.")
                return redirect(run)
        status = 400
    else:
        form, status = RunStartForm(), 200
    running = DeploymentRun.objects.running().select_related("started_by")[:5]
    steps = ProcessStep.objects.exclude(mode=ProcessStep.Mode.DROPPED)
    return render(
        request,
        "retros/run_start.html",
        {
            "form": form,
            "week": week,
            "allowed": allowed,
            "running": running,
            "step_count": steps.count(),
        },
        status=status,
    )


@require_safe
def run_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(
        DeploymentRun.objects.select_related(
            "duty_week__unit",
            "duty_week__qa_person",
            "duty_week__platform_person",
            "started_by",
            "ended_by",
            "deployment",
        ),
        pk=pk,
    )
    can_act = can_act_on_run(request.user, run)
    context = _live_context(request, run, can_act)
    context["note_form"] = RunNoteForm(run=run, steps=context["steps"])
    response = render(request, "retros/run_detail.html", context)
    response["ETag"] = context["etag"]
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def run_live(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The live part of the run page, for watchers to poll; 304 while nothing changed."""
    run = _get_run(pk)
    can_act = can_act_on_run(request.user, run)
    etag = _run_etag(run, can_act)
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponseNotModified(headers={"ETag": etag, "Cache-Control": "private, no-cache"})
    return _render_live(request, run, can_act)


@require_POST
def step_act(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Start, finish, block, unblock or skip one step; the run row is locked while it happens."""
    with transaction.atomic():
        # The run is found through its step and locked in one query.
        run = get_object_or_404(
            DeploymentRun.objects.select_related("duty_week__unit").select_for_update(of=("self",)),
            steps=pk,
        )
        _require_actor(request, run)
        step = RunStep.objects.select_related("acted_by", "process_step").get(pk=pk)
        try:
            run.step_action(
                step,
                request.POST.get("action", ""),
                request.user,
                text=request.POST.get("text", "").replace("\x00", ""),
            )
        except RunRefused as refusal:
            return _answer(request, run, refusal)
    if request.htmx:
        return _render_pressed(request, run, step)
    return _answer(request, run)


def _act_on_run(
    request: HtmxHttpRequest,
    pk: int,
    action: Callable[[DeploymentRun], object],
    done: str = "",
) -> HttpResponse:
    """Lock the run, check that this person may act on it, then `action(run)`: a refusal
    (an ended run, a bad step or note) is answered with its reason and status, success with
    the run and, on a page without htmx, the message `done`."""
    with transaction.atomic():
        run = _get_run(pk, lock=True)
        _require_actor(request, run)
        try:
            action(run)
        except RunRefused as refusal:
            return _answer(request, run, refusal)
    if done and not request.htmx:
        messages.success(request, done)
    return _answer(request, run)


@require_POST
def run_restart(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Go back to an earlier step: it and the steps after it are to do again; one restart more."""

    def restart(run: DeploymentRun) -> None:
        step_pk = _int(request.POST.get("step"))
        step = run.steps.filter(pk=step_pk).first() if step_pk is not None else None
        if step is None:
            raise RunRefused("Choose the step to restart from.", status=400)
        run.restart_from(
            step, request.user, reason=request.POST.get("reason", "").replace("\x00", "")
        )

    return _act_on_run(request, pk, restart)


@require_POST
def run_abort(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "").replace("\x00", "")
    return _act_on_run(
        request,
        pk,
        lambda run: run.abort(request.user, reason),
        done="Run aborted. Its deployment is logged as aborted.",
    )


@require_POST
def run_finish(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    result = request.POST.get("result", Deployment.Result.SUCCESS)
    return _act_on_run(
        request,
        pk,
        lambda run: run.finish(request.user, result),
        done="Run finished. Its deployment is logged with the measured times.",
    )


@require_POST
def run_note(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A question, pain or idea noted during the run: a finding of that week's retro."""

    def note(run: DeploymentRun) -> None:
        form = RunNoteForm(request.POST, run=run)
        if not form.is_valid():
            errors = "; ".join(
                " ".join(str(message) for message in e) for e in form.errors.values()
            )
            raise RunRefused(f"Note not added: {errors}", status=400)
        step = run.steps.filter(pk=form.cleaned_data["step"]).first()
        run.add_note(request.user, form.cleaned_data["kind"], form.cleaned_data["text"], step=step)

    return _act_on_run(request, pk, note, done="Noted: it is a finding of this week's retro now.")


@require_POST
def step_how_to(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Improve a step's how-to in place during a run; the edit is kept as a revision."""
    step_run_id = get_object_or_404(RunStep.objects.only("run_id"), pk=pk).run_id
    with transaction.atomic():
        run = _get_run(step_run_id, lock=True)
        step = RunStep.objects.select_related("process_step").get(pk=pk)
        if step.process_step is None or not (
            can_act_on_run(request.user, run) and can_edit_how_to(request.user, step.process_step)
        ):
            raise PermissionDenied(
                "QA, platform and the step's own unit (when on this run) improve its how-to."
            )
        if not run.is_running:
            ended = RunRefused("This run has ended; improve the how-to on the process map.")
            return _answer(request, run, ended)
        how_to = request.POST.get("how_to", "").replace("\x00", "")
        if len(how_to) > 20_000:
            return _answer(request, run, RunRefused("A how-to is at most 20,000 characters.", 400))
        if revise_how_to(step.process_step, how_to, request.user, run=run):
            step.how_to = how_to
            step.save(update_fields=["how_to"])
            run.touch()
            if not request.htmx:
                messages.success(request, f"How-to of “{step.title}” saved as a new revision.")
    return _answer(request, run)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 < number < 2**31 else None
