"""`improvements` builds on `retros`, never the reverse (docs/architecture.md), in templates and
writes too.

lint-imports (make lint, contracts in pyproject.toml) checks the Python imports. These tests
check what it cannot see: a retros template that names an improvements URL, loads its template
tags or includes its templates; a retros module or template that spells out an improvements
path; a `{% url %}` name that no longer exists (a namespace renamed in one place, which would
otherwise be a 500 on one page); and the one writer of a finding's triage outcome.
"""

import ast
import pkgutil
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.db import connection
from django.template import engines
from django.template.defaulttags import URLNode
from django.template.loader_tags import ExtendsNode, IncludeNode
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, URLResolver, get_resolver, resolve, reverse

from retros import outbox, page_sections
from retros.models import Finding, ProcessStep, Retrospective

from .factories import FindingFactory, ImprovementFactory, ProcessStepFactory, RetrospectiveFactory

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
LOAD_TAG = re.compile(r"{%-?\s*load\s+([^%]+?)\s*-?%}")
PATH_IN_MARKUP = re.compile(r"""=\s*["'](/[^"'{?#\s]*)""")


def namespaces(app: str) -> set[str]:
    """The URL namespaces an app's urls package declares, one per domain module."""
    package = import_module(f"{app}.urls")
    return {
        import_module(f"{app}.urls.{module.name}").app_name
        for module in pkgutil.iter_modules(package.__path__)
    }


def tag_libraries(app: str) -> set[str]:
    package = import_module(f"{app}.templatetags")
    return {module.name for module in pkgutil.iter_modules(package.__path__)}


def url_names(source: str) -> list[str]:
    """The view name of every `{% url %}` tag, parsed as Django parses it (a name given as a
    variable comes back as "<variable NAME>": it cannot be checked)."""
    nodelist = engines["django"].from_string(source).template.nodelist
    return [
        node.view_name.var if isinstance(node.view_name.var, str) else f"<variable {node}>"
        for node in nodelist.get_nodes_by_type(URLNode)
    ]


def template_names(source: str) -> list[str]:
    """The templates a template extends or includes by a literal name."""
    nodelist = engines["django"].from_string(source).template.nodelist
    names = [node.template.var for node in nodelist.get_nodes_by_type(IncludeNode)]
    names += [node.parent_name.var for node in nodelist.get_nodes_by_type(ExtendsNode)]
    return [name for name in names if isinstance(name, str)]


def reaches_into(source: str, app: str) -> list[str]:
    """What a template names of `app`: URL names in its namespaces, its template tag
    libraries, its templates."""
    found = [name for name in url_names(source) if name.split(":")[0] in namespaces(app)]
    loaded = {library for match in LOAD_TAG.findall(source) for library in match.split()}
    found += sorted(f"{{% load {library} %}}" for library in loaded & tag_libraries(app))
    found += [name for name in template_names(source) if name.startswith(f"{app}/")]
    return found


def paths_in_python(source: str) -> list[str]:
    """Every string in a module that starts like a path, f-strings by their leading part."""
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.match(r"/[\w-]", node.value)
    ]


def namespaces_reached(paths: list[str], app: str) -> list[str]:
    """The paths among `paths` that our URLs serve from one of `app`'s namespaces."""
    theirs = namespaces(app)
    found = []
    for path in paths:
        try:
            match = resolve(path.split("?")[0])
        except Resolver404:
            continue
        if match.namespace in theirs:
            found.append(f"{path} ({match.view_name})")
    return found


def known_url_names() -> set[str]:
    def walk(patterns, prefix: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
                yield from walk(pattern.url_patterns, namespace)
            elif pattern.name:
                yield prefix + pattern.name

    return set(walk(get_resolver().url_patterns, ""))


def templates_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_the_checker_finds_what_a_template_names_of_improvements():
    planted = """{% extends "base.html" %}{% load people board_permissions %}
    {% block content %}
      <a href="{% url 'retros:retro_list' %}">ours</a>
      <a href="{% url "triage:retro_triage" retro.pk %}">theirs</a>
      <div hx-get="{% url 'board:board' %}"></div>
      {% include "improvements/carry_over.html" %}{% include "retros/unit_fields.html" %}
    {% endblock %}"""

    assert reaches_into(planted, "improvements") == [
        "triage:retro_triage",
        "board:board",
        "{% load board_permissions %}",
        "improvements/carry_over.html",
    ]
    assert reaches_into(planted, "retros") == [
        "retros:retro_list",
        "{% load people %}",
        "retros/unit_fields.html",
    ]


def test_the_namespaces_of_the_two_apps_are_apart():
    retros, improvements = namespaces("retros"), namespaces("improvements")
    assert retros >= {"retros", "teams", "deployments", "runs", "integrations"}
    assert improvements >= {"board", "process_link", "triage", "reporting"}
    assert retros.isdisjoint(improvements)


def test_no_retros_template_names_an_improvements_url_tag_library_or_template():
    checked = templates_under(TEMPLATES / "retros")
    found = {
        str(path.relative_to(TEMPLATES)): reaches_into(path.read_text(), "improvements")
        for path in checked
    }
    assert {name: names for name, names in found.items() if names} == {}
    # The sweep reached every retros template and their URL tags, not an empty folder.
    assert len(checked) >= 21
    assert sum(len(url_names(path.read_text())) for path in checked) >= 76


def test_no_retros_module_names_an_improvements_url():
    theirs, known = namespaces("improvements"), known_url_names()
    modules = [path for path in (ROOT / "retros").rglob("*.py") if "migrations" not in path.parts]
    names = {
        str(path.relative_to(ROOT)): [
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and node.value in known
        ]
        for path in modules
    }
    found = {
        module: [name for name in named if name.split(":")[0] in theirs]
        for module, named in names.items()
    }
    assert {module: named for module, named in found.items() if named} == {}
    # reverse() and redirect() in retros name retros URLs: the check saw real names.
    assert sum(len(named) for named in names.values()) >= 20, names


def test_the_path_check_finds_a_hard_coded_improvements_path():
    python = 'link = absolute(f"/updates/{week.iso_label}/")\nhome = "/retros/?unit=1"\n'
    markup = '<a href="/board/">board</a> <a href="/retros/">retros</a> <a href="{% url "x" %}">'

    assert namespaces_reached(paths_in_python(python), "improvements") == [
        "/updates/ (reporting:weekly_update_now)"
    ]
    assert namespaces_reached(PATH_IN_MARKUP.findall(markup), "improvements") == [
        "/board/ (board:board)"
    ]


def test_no_retros_module_or_template_spells_out_an_improvements_path():
    modules = [path for path in (ROOT / "retros").rglob("*.py") if "migrations" not in path.parts]
    templates = templates_under(TEMPLATES / "retros")
    paths = {str(path.relative_to(ROOT)): paths_in_python(path.read_text()) for path in modules}
    paths |= {
        str(path.relative_to(ROOT)): PATH_IN_MARKUP.findall(path.read_text()) for path in templates
    }
    found = {name: namespaces_reached(spelled, "improvements") for name, spelled in paths.items()}
    assert {name: reached for name, reached in found.items() if reached} == {}
    # Retros' own paths were reached and resolved, so the check looked at real paths.
    assert len(namespaces_reached(sum(paths.values(), []), "retros")) >= 5


def test_the_url_check_fails_on_a_name_nobody_defines():
    known = known_url_names()
    planted = "{% url 'board:board' %}{% url 'board:bored' %}{% url 'retro_list' %}"
    assert [name for name in url_names(planted) if name not in known] == [
        "board:bored",
        "retro_list",
    ]


def test_every_url_tag_in_every_template_names_a_url_that_exists():
    known = known_url_names()
    checked = templates_under(TEMPLATES)
    names = [(path, name) for path in checked for name in url_names(path.read_text())]
    unknown = [
        f"{path.relative_to(TEMPLATES)}: {name}" for path, name in names if name not in known
    ]
    assert unknown == []
    assert len(checked) >= 40
    assert len(names) >= 148
    assert len({name for _, name in names}) >= 74


def test_improvements_fills_every_place_retros_pages_have():
    filled = page_sections.templates(*page_sections.PLACES)
    assert all(name.startswith("improvements/") for name in filled.values()), filled
    for name in filled.values():
        engines["django"].get_template(name)  # the partial exists
    assert page_sections.prefetch("step_change_note") == ("events__improvement",)


def test_a_place_retros_pages_do_not_have_cannot_be_filled():
    with pytest.raises(ValueError, match="no place called 'retro_footer'"):
        page_sections.register("retro_footer", "improvements/retros_page_sections.html")


def test_a_retro_page_renders_without_improvements_when_nothing_fills_its_places(
    owner_client, duty_week, monkeypatch
):
    retro = RetrospectiveFactory(duty_week=duty_week, status=Retrospective.Status.SUBMITTED)
    step = ProcessStepFactory(mode=ProcessStep.Mode.MANUAL)
    step.change_mode(ProcessStep.Mode.AUTOMATED, note="Improvement #7 done: script it")
    monkeypatch.setattr(page_sections, "_registered", {})

    retro_page = owner_client.get(retro.get_absolute_url())
    process_map = owner_client.get(reverse("deployments:process_map"))

    assert retro_page.status_code == process_map.status_code == 200
    assert "Triage findings" not in retro_page.text
    assert "Weekly update" not in retro_page.text
    assert "Done improvements to record" not in process_map.text
    assert "— Improvement #7 done: script it" in process_map.text


def test_linking_a_finding_writes_its_outcome_once(owner):
    finding = FindingFactory()
    card = ImprovementFactory()

    with CaptureQueriesContext(connection) as queries:
        card.link_finding(finding, owner)

    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "retros_finding"')]
    assert len(writes) == 1
    finding.refresh_from_db()
    assert finding.outcome == Finding.Outcome.IMPROVEMENT


# Where a finding's outcome may be written: its one method, and the scale seed, which builds
# years of rows with bulk_update (no model method runs there).
OUTCOME_WRITERS = {"retros/models/retros.py", "improvements/management/commands/seed_scale.py"}


def outcome_writes(source: str) -> list[int]:
    """Lines that write a finding's outcome: an assignment to `.outcome`, an update() with
    outcome=, or "outcome" among the fields a save() or bulk_update() writes."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "outcome" for t in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            sets_it = method == "update" and any(k.arg == "outcome" for k in node.keywords)
            lists_it = method in ("save", "bulk_update") and any(
                isinstance(constant, ast.Constant) and constant.value == "outcome"
                for argument in [*node.args, *(k.value for k in node.keywords)]
                for constant in ast.walk(argument)
            )
            if sets_it or lists_it:
                lines.append(node.lineno)
    return lines


def test_the_outcome_check_finds_each_way_of_writing_it():
    planted = """
finding.outcome = Finding.Outcome.PENDING
Finding.objects.filter(pk=1).update(outcome="no_action")
finding.save(update_fields=["outcome", "no_action_reason"])
Finding.objects.bulk_update(findings, ["outcome"])
Finding.objects.filter(outcome="pending").count()
pending = finding.outcome == Finding.Outcome.PENDING
"""
    assert outcome_writes(planted) == [2, 3, 4, 5]


def test_only_finding_set_outcome_writes_a_findings_outcome():
    modules = [
        path
        for package in ("config", "retros", "improvements")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    found = {str(path.relative_to(ROOT)): outcome_writes(path.read_text()) for path in modules}
    assert {path for path, lines in found.items() if lines} == OUTCOME_WRITERS
    method = next(
        node
        for node in ast.walk(ast.parse((ROOT / "retros/models/retros.py").read_text()))
        if isinstance(node, ast.FunctionDef) and node.name == "set_outcome"
    )
    assert found["retros/models/retros.py"]  # in set_outcome, and nowhere else there
    assert all(
        method.lineno <= line <= method.end_lineno for line in found["retros/models/retros.py"]
    )
    assert len(modules) >= 100


def test_a_submitted_retros_chat_message_links_to_the_weekly_update_improvements_registers(
    duty_week, monkeypatch
):
    retro = RetrospectiveFactory(duty_week=duty_week)
    week = duty_week.iso_label

    assert outbox.retro_submitted(retro).link.endswith(f"/updates/{week}/")
    monkeypatch.setattr(outbox, "LINKS", {})
    assert outbox.retro_submitted(retro).link.endswith(retro.get_absolute_url())
