"""`make mutate`: mutation testing of the core rules with mutmut, scored per module.

mutmut 3 copies the source into `mutants/`, rewrites every function of the modules named in
`[tool.mutmut] only_mutate` (pyproject.toml) into a trampoline over its mutants, records which
tests call which function, and runs each mutant against only those tests. It skips functions
that carry a decorator other than @staticmethod/@classmethod, which would leave out the API
endpoints (@api.post) and everything under @transaction.atomic. So this script first stages a
copy of the project in `.mutation/` (git-ignored) in which those decorators are applied after
the function instead (`name = decorator(name)`): the same code, which mutmut then mutates.

    make mutate                                     # every core module, all mutants in scope
    make mutate MUTATE_ARGS="retros.rotation"       # one module
    make mutate MUTATE_ARGS="--survivors"           # after adding tests: the survivors again
    .venv/bin/python bench/mutate.py --report-only  # re-score the last run

Runs at low priority with one worker, one module at a time. Writes bench/mutation.json: the
score per module (killed / (mutants - equivalent)), the surviving mutants with their diffs,
and how long it took. Mutants that cannot change behaviour are listed with a reason in
bench/mutation_equivalent.toml; an entry counts only while its diff still matches.
"""

import argparse
import ast
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / ".mutation"
RESULTS = ROOT / "bench" / "mutation.json"
EQUIVALENT = ROOT / "bench" / "mutation_equivalent.toml"
# The functions of each core module that are mutated and scored, by qualified name (globs).
# models/board.py: the board's moves and counts, not its categories or column settings.
# reporting/metrics.py: all but the SQLite-only SQL (the suite runs on PostgreSQL).
# reporting/effect_statistics.py: the "did it help?" verdict (the rank test, its interval,
# the dependence correction and the sentence shown).
SCOPE = {
    "improvements.models.board": {
        "include": [
            "Column.*",
            "ImprovementQuerySet.open",
            "ImprovementQuerySet.on_board",
            "Improvement.days_in_column",
            "Improvement.move_to",
            "Improvement._move_once",
            "Improvement._neighbour_positions",
            "Improvement.board_counts",
            "Improvement.archive",
            "Improvement.unarchive",
            "Improvement.drop",
            "Improvement._position_between",
            "Improvement._respace",
            "Improvement.next_position",
        ],
    },
    "improvements.reporting.metrics": {
        "include": ["*"],
        "exclude": [
            "*.as_sqlite",
            "register_sqlite_functions",
        ],
    },
    "improvements.reporting.effect_statistics": {"include": ["*"]},
    "retros.api": {"include": ["*"]},
    "retros.rotation": {"include": ["*"]},
    # The deployment run's state machine and time accounting only (not the rest of models/runs.py):
    # step transitions, the intervals they close, restart, abort and finish.
    "retros.models.runs": {
        "include": [
            "RunStep.allowed_actions",
            "RunStep.apply",
            "RunStep._close_interval",
            "DeploymentRun.step_action",
            "DeploymentRun._close_open_intervals",
            "DeploymentRun.restart_from",
            "DeploymentRun.abort",
            "DeploymentRun.finish",
        ],
    },
}
CORE_MODULES = list(SCOPE)
STAGED_DIRS = ["bench", "config", "improvements", "retros", "static", "templates", "tests"]
STAGED_FILES = ["manage.py", "pyproject.toml"]
KILLED = {1, 3, -24, 24, 152, 255, 36}  # a failing test, or a timeout (the mutant hangs)
SURVIVED = {0, 5, 33}  # every test passed, or no test reaches the mutated function


# Left out of the staged copy: a memoised function answers later calls from its cache, so
# mutmut would record only the first test that calls it and run its mutants against that one.
MEMOISING = {"functools.cache", "cache", "functools.lru_cache", "lru_cache"}


def undecorate(source: str) -> str:
    """The same module with each decorator applied after its function, not above it
    (memoising ones dropped: see MEMOISING)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []  # (line index, order, lines to delete, text to insert)
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.decorator_list:
            continue
        names = [ast.get_source_segment(source, d) for d in node.decorator_list]
        if names in (["staticmethod"], ["classmethod"]):
            continue
        kept = [name for name in names if name not in MEMOISING]
        indent = " " * node.col_offset
        applied = node.name
        for decorator in reversed(kept):
            applied = f"{decorator}({applied})"
        first = node.decorator_list[0].lineno - 1
        if kept:
            line = f"{indent}{node.name} = {applied}\n"
            edits.append((node.end_lineno, -node.col_offset, 0, line))
        edits.append((first, 0, node.lineno - 1 - first, ""))
    for index, _order, delete, text in sorted(edits, reverse=True):
        lines[index : index + delete] = [text] if text else []
    return "".join(lines)


def stage() -> None:
    """Copy the project into .mutation/, keeping modification times of unchanged files."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *STAGED_DIRS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    core = set(config["only_mutate"])
    for name in [*listed, *STAGED_FILES]:
        source, target = ROOT / name, STAGE / name
        if not source.is_file():
            continue
        data = source.read_bytes()
        if name in core:
            data = undecorate(data.decode()).encode()
        if target.exists() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def scoped_functions(module: str) -> list[str]:
    """mutmut's names (x_function, xǁClassǁmethod) of the module's functions in scope."""
    source = (STAGE / (module.replace(".", "/") + ".py")).read_text()
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            names.append((node.name, f"x_{node.name}"))
        elif isinstance(node, ast.ClassDef):
            names += [
                (f"{node.name}.{item.name}", f"xǁ{node.name}ǁ{item.name}")
                for item in node.body
                if isinstance(item, ast.FunctionDef)
            ]
    scope = SCOPE[module]
    return [
        mangled
        for name, mangled in names
        if any(fnmatch.fnmatch(name, p) for p in scope["include"])
        and not any(fnmatch.fnmatch(name, p) for p in scope.get("exclude", []))
    ]


def mutate(module: str, survivors_only: bool = False) -> None:
    command = ["nice", "-n", "15", str(ROOT / ".venv/bin/mutmut"), "run", "--max-children", "1"]
    env = {**os.environ, "DEBUG": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    if survivors_only:
        # Killed mutants stay killed while tests are only added; try the others again, and
        # every mutant of a function that changed (mutant generation resets those).
        generate_mutants()
        names = [name for name, code in scoped_results(module).items() if code not in KILLED]
    else:
        names = [f"{module}.{function}*" for function in scoped_functions(module)]
    print(f"mutate: {module} ({len(names)} {'mutants' if survivors_only else 'functions'})")
    if names:
        subprocess.run([*command, *names], cwd=STAGE, env=env, check=True)


def generate_mutants() -> None:
    """The first step of `mutmut run` alone: write the mutants of changed functions."""
    script = (
        "import os\n"
        "from mutmut.__main__ import create_mutants, set_mutant_under_test\n"
        "from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir, "
        "setup_source_paths\n"
        "set_mutant_under_test('mutant_generation')\n"
        "os.makedirs('mutants', exist_ok=True)\n"
        "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)\n"
    )
    python = str(ROOT / ".venv/bin/python")
    subprocess.run(["nice", "-n", "15", python, "-c", script], cwd=STAGE, check=True)


def scoped_results(module: str) -> dict[str, int | None]:
    """The exit code of each of the module's mutants in scope, from the last run."""
    meta = STAGE / "mutants" / (module.replace(".", "/") + ".py.meta")
    if not meta.exists():
        return {}
    prefixes = tuple(f"{module}.{function}__mutmut_" for function in scoped_functions(module))
    return {
        name: code
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items()
        if name.startswith(prefixes)
    }


def diff_of(mutant: str) -> str:
    shown = subprocess.run(
        [str(ROOT / ".venv/bin/mutmut"), "show", mutant],
        cwd=STAGE,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return "\n".join(
        line
        for line in shown.splitlines()
        if line[:1] in "+-" and not line.startswith(("---", "+++"))
    )


def report(runtimes: dict[str, float], runtime_key: str = "runtime_seconds") -> dict:
    equivalent = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    equivalent = {entry["mutant"]: entry for entry in equivalent.get("mutant", [])}
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    modules, survivors, stale = {}, {}, []
    for module in CORE_MODULES:
        meta = STAGE / "mutants" / (module.replace(".", "/") + ".py.meta")
        if not meta.exists():
            if module in previous.get("modules", {}):
                modules[module] = previous["modules"][module]
                survivors[module] = previous["survivors"].get(module, [])
            continue
        codes = scoped_results(module)
        killed = sum(code in KILLED for code in codes.values())
        unchecked = sum(code is None for code in codes.values())
        not_run = runtimes and module not in runtimes  # another module's run
        if (not_run or unchecked == len(codes)) and module in previous.get("modules", {}):
            # Not run now: its last figures stand. (mutmut resets the results of every function
            # that changed in any module, so re-scoring it would count only what is left.)
            modules[module] = previous["modules"][module]
            survivors[module] = previous["survivors"].get(module, [])
            continue
        lived, judged = [], 0
        for name, code in sorted(codes.items(), key=lambda item: _natural(item[0])):
            if code not in SURVIVED:
                continue
            diff = diff_of(name)
            entry = equivalent.get(name)
            if entry and entry["diff"].strip() == diff.strip():
                judged += 1
                continue
            if entry:
                stale.append(name)
            lived.append({"mutant": name, "no_tests": code != 0, "diff": diff})
        checked = len(codes) - unchecked - judged
        modules[module] = {
            "mutants": len(codes),
            "killed": killed,
            "survived": len(lived),
            "equivalent": judged,
            "not_checked": unchecked,
            "score": round(100 * killed / checked, 1) if checked else None,
        }
        earlier = previous.get("modules", {}).get(module, {})
        for key in ("runtime_seconds", "survivor_rerun_seconds"):
            if key in earlier:
                modules[module][key] = earlier[key]
        if module in runtimes:
            modules[module][runtime_key] = round(runtimes[module])
        survivors[module] = lived
    results = {
        "tool": "mutmut " + _version(),
        "score": "killed / (mutants - equivalent - not checked); a timeout counts as killed",
        "scope": SCOPE,
        "modules": modules,
        "survivors": survivors,
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for module, figures in modules.items():
        print(f"{module:24} {figures['score']}%  {figures}")
    if stale:
        print("equivalent entries whose diff no longer matches:", ", ".join(stale))
    return results


def _natural(name: str) -> tuple:
    function, _, number = name.rpartition("__mutmut_")
    return (function, int(number) if number.isdigit() else 0)


def _version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", default=CORE_MODULES, help="dotted module names")
    parser.add_argument("--report-only", action="store_true", help="score the last run again")
    parser.add_argument(
        "--survivors", action="store_true", help="run only the mutants the last run left alive"
    )
    arguments = parser.parse_args()
    runtimes = {}
    if not arguments.report_only:
        unknown = set(arguments.modules) - set(CORE_MODULES)
        if unknown:
            parser.error(f"not a core module: {', '.join(sorted(unknown))}")
        if "DATABASE_URL" not in os.environ:
            parser.error("run it under .ci/with-postgres (make mutate does)")
        stage()
        for module in arguments.modules:
            started = time.monotonic()
            mutate(module, survivors_only=arguments.survivors)
            runtimes[module] = time.monotonic() - started
    report(runtimes, "survivor_rerun_seconds" if arguments.survivors else "runtime_seconds")
    return 0


if __name__ == "__main__":
    shutil.which("git") or sys.exit("git is needed to list the project's files")
    sys.exit(main())
