"""The docs in docs/ stay true to the code: every bench figure and target has its place in
docs/performance.md, and every module, class and link docs/architecture.md names exists."""

import ast
import importlib
import re
from pathlib import Path

from django.apps import apps

from improvements.reporting import panels

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PERFORMANCE = ROOT / "docs" / "performance.md"
BENCH = ROOT / "bench" / "run.py"
TOP_FOLDERS = ("config", "retros", "improvements", "templates", "static", "tests", "bench", "docs")


def anchors(markdown: Path) -> set[str]:
    """The link targets of a file's headings, made the way GitHub makes them. Two headings
    alike would give the second another target (`-1`): a link to it would land on the first."""
    headings = re.findall(r"^#+ (.+)$", markdown.read_text(), flags=re.MULTILINE)
    made = [
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings
    ]
    assert len(made) == len(set(made)), f"{markdown.name} has two headings alike"
    return set(made)


def backticked(markdown: Path) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", markdown.read_text()))


def figure_name(node: ast.expr) -> str | None:
    """A figure's name as the docs write it: a number or name filled in at run time is `…`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "…" for part in node.values
        )
    return None


def bench_figures() -> tuple[set[str], list[str]]:
    """The names of the figures bench/run.py builds, and the functions it builds unnamed ones in.

    A name read from a loop variable is taken from the loop's list of tuples.
    """
    tree = ast.parse(BENCH.read_text())
    names: set[str] = set()
    unnamed_in: list[str] = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        from_loops: dict[str, set[str]] = {}
        for loop in ast.walk(function):
            if isinstance(loop, ast.For) and isinstance(loop.target, ast.Tuple):
                for index, variable in enumerate(loop.target.elts):
                    if isinstance(variable, ast.Name) and isinstance(loop.iter, ast.List):
                        from_loops[variable.id] = {
                            row.elts[index].value
                            for row in loop.iter.elts
                            if isinstance(row, ast.Tuple)
                            and isinstance(row.elts[index], ast.Constant)
                        }
        for call in ast.walk(function):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Figure"):
                continue
            first = call.args[0]
            if figure_name(first) is not None:
                names.add(figure_name(first))
            elif isinstance(first, ast.Name) and first.id in from_loops:
                names |= from_loops[first.id]
            else:
                unnamed_in.append(function.name)
    return names, unnamed_in


def test_every_figure_the_bench_defines_is_listed_in_the_performance_doc():
    names, unnamed_in = bench_figures()
    listed = backticked(PERFORMANCE)
    assert sorted(name for name in names if name not in listed) == []
    # A figure named by a variable could slip past this test: only `missing` may do it.
    assert set(unnamed_in) == {"missing"}
    assert len(names) == 21  # the figures of bench/run.py; a new one belongs in the doc too


def test_every_dashboard_panel_the_bench_times_is_listed_in_the_performance_doc():
    listed = backticked(PERFORMANCE)
    figures = [f"dashboard: {name}" for name in (*panels.PANELS, "whole page")]
    assert [figure for figure in figures if figure not in listed] == []
    assert len(figures) >= 16


def test_every_target_in_the_bench_names_a_section_of_the_performance_doc():
    sections = anchors(PERFORMANCE)
    calls = [
        call
        for call in ast.walk(ast.parse(BENCH.read_text()))
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Target"
    ]
    named = []
    for call in calls:
        source = [kw.value for kw in call.keywords if kw.arg == "source"] + call.args[3:4]
        assert source and isinstance(source[0], ast.Constant), ast.unparse(call)
        named.append(source[0].value)
    assert sorted(set(named) - sections) == []
    assert len(named) == len(calls) >= 13


def test_every_link_to_a_doc_section_from_the_code_finds_its_section():
    sections = {path.name: anchors(path) for path in (ROOT / "docs").glob("*.md")}
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")] + [
        path
        for folder in TOP_FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".js", ".html", ".css", ".md") and "vendor" not in path.parts
    ]
    links = [
        (str(path.relative_to(ROOT)), doc, section)
        for path in files
        for doc, section in re.findall(r"(?:docs/)?(\w+\.md)#([\w-]+)", path.read_text())
        if doc in sections
    ]
    assert [link for link in links if link[2] not in sections[link[1]]] == []
    assert len(links) >= 20


def tree_paths(markdown: Path) -> list[str]:
    """Paths in the ```tree blocks: two spaces of indent per folder level."""
    paths = []
    for block in re.findall(r"```tree\n(.*?)```", markdown.read_text(), flags=re.DOTALL):
        folders: list[str] = []
        for line in block.splitlines():
            depth = (len(line) - len(line.lstrip())) // 2
            name = line.split()[0]
            folders = folders[:depth]
            paths.append("".join(folders) + name)
            if name.endswith("/"):
                folders.append(name)
    return paths


def test_every_path_in_the_architecture_layout_exists():
    paths = tree_paths(ARCHITECTURE)
    assert [path for path in paths if not (ROOT / path).exists()] == []
    assert len(paths) >= 74


def test_every_path_the_docs_name_in_their_text_exists():
    named = {
        token.rstrip("/")
        for doc in (ARCHITECTURE, PERFORMANCE)
        for token in backticked(doc)
        if re.fullmatch(rf"(?:{'|'.join(TOP_FOLDERS)})/[\w./-]*", token)
    }
    assert sorted(path for path in named if not (ROOT / path).exists()) == []
    assert len(named) >= 40


def resolves(dotted: str) -> bool:
    """`retros.outbox.enqueue`: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def test_every_model_method_and_module_attribute_the_docs_name_exists():
    models = {model.__name__: model for model in apps.get_models()}
    models |= {
        "ImprovementQuerySet": apps.get_model("improvements", "Improvement").objects._queryset_class
    }
    tokens = backticked(ARCHITECTURE) | backticked(PERFORMANCE)
    dotted = {t for t in tokens if re.fullmatch(r"(?:config|retros|improvements)(?:\.\w+)+", t)}
    methods = {t for t in tokens if re.fullmatch(r"[A-Z]\w+\.\w+", t) and t.split(".")[0] in models}
    assert sorted(t for t in dotted if not resolves(t)) == []
    assert sorted(t for t in methods if not hasattr(models[t.split(".")[0]], t.split(".")[1])) == []
    assert len(dotted) >= 2 and len(methods) >= 25
