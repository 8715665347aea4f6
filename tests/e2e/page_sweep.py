"""The main pages of the app and how the page sweeps (every page, long words) open them."""

from django.test import Client

from improvements.models import Improvement
from retros.models import Deployment, DeploymentRun, Retrospective


def main_pages() -> dict[str, str]:
    """Name -> path of every main page, with objects of the demo data in the paths."""
    card = Improvement.objects.filter(archived_at__isnull=True).order_by("pk").first()
    retro = Retrospective.objects.order_by("-duty_week__week_start").first()
    deployment = Deployment.objects.order_by("-started_at").first()
    return {
        "login": "/accounts/login/",
        "board": "/board/",
        "card detail": f"/improvements/{card.pk}/",
        "retro list": "/retros/",
        "retro page": f"/retros/{retro.pk}/",
        "triage": f"/retros/{retro.pk}/triage/",
        "dashboard": "/dashboard/",
        "deployment log": "/deployments/",
        "deployment detail": f"/deployments/{deployment.pk}/",
        "process map": "/process/",
        "rotation": "/rotation/",
        "units": "/units/",
        "weekly update": "/updates/",
        "deployment runs": "/runs/",
        "run under way": f"/runs/{DeploymentRun.objects.running().order_by('pk').first().pk}/",
        "finished run": f"/runs/{DeploymentRun.objects.filter(state='finished').first().pk}/",
        "start a run": "/runs/start/",
    }


def open_context(browser, live_server, user, viewport, color_scheme="light"):
    """A browser context without CSP (axe is injected), and a session of `user` for visit()."""
    context = browser.new_context(
        viewport=viewport, base_url=live_server.url, bypass_csp=True, color_scheme=color_scheme
    )
    context.set_default_timeout(15_000)
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    return context, session


def visit(context, session, live_server, name: str, path: str, problems: list):
    """Open page `name` (logged out for the login page); its console errors go to `problems`."""
    if name == "login":
        context.clear_cookies()
    else:
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            problems.append(f"{name}: console {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"{name}: {error}"))
    response = page.goto(path, wait_until="networkidle")
    assert response.status == 200, (name, response.status)
    # Lazy dashboard panels arrive after the page; wait until none is loading.
    page.wait_for_function("!document.querySelector('.dash-panel-loading')")
    return page
