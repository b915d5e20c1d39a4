"""The house rules, read from the code itself (its imports and calls, parsed with ``ast``):

- the file pipeline (``huddle/pipeline/``) imports only the standard library, its three
  parsing libraries and itself: no Flask, SQLAlchemy, RQ or other part of ``huddle``;
- no module imports another that imports it back, directly or in a loop;
- no ``huddle`` import inside a function, except in the command line and ``create_app``;
- a package's ``__init__.py`` holds its docstring and nothing else (so importing one module of
  a package never runs the others), but for the app's and the command line's;
- services never touch the request, render templates, import the jobs or the mail: jobs are
  queued by their dotted name, and that name must exist in ``huddle.jobs``;
- ``huddle.jobs`` is the only module below the web that imports both services and the mail,
  and nothing imports ``huddle.jobs``;
- only ``huddle.mail`` talks to the mail server (Flask-Mail, smtplib, the mail extension);
- views hold no transaction: no commit, rollback, flush, add, delete or merge in a view.

Each rule is a function over a map of module names to their source, so that every rule is
also shown to fail on a small tree that breaks it (the second half of this file).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HUDDLE = Path(__file__).resolve().parents[2] / "huddle"

PIPELINE_MAY_IMPORT = {"charset_normalizer", "email_validator", "openpyxl", "python_calamine"}
# Modules that answer requests or run commands: the top of the house.
WEB_PARTS = ("views", "pages", "forms")
WEB_MODULES = {
    "huddle",
    "huddle.access",
    "huddle.errors",
    "huddle.htmx",
    "huddle.security",
    "huddle.devserver",
    "huddle.inputs",
}
# Modules below the services, which every layer may use.
FOUNDATION = {
    "huddle.config",
    "huddle.extensions",
    "huddle.models",
    "huddle.i18n",
    "huddle.queue",
    "huddle.devmail",
    "huddle.mime",
    "huddle.bounds",
}
MAIL_TALK = {"flask_mail", "smtplib", "huddle.extensions.mail"}
SESSION_WRITES = {"commit", "rollback", "flush", "add", "delete", "merge"}


@dataclass(frozen=True)
class Import:
    """One imported module (or name of a module) as the importing module names it."""

    target: str  # "huddle.imports.drafts", "flask.request", "sqlalchemy"
    line: int
    in_function: bool


def module_sources(root: Path = HUDDLE) -> dict[str, str]:
    """Every module of the package at ``root``, by dotted name."""
    sources = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        sources[name] = path.read_text(encoding="utf-8")
    return sources


def imports_of(module: str, modules: dict[str, str]) -> Iterator[Import]:
    """What ``module`` imports: each module, and each name imported from a module
    (``flask.request``), relative imports made absolute."""
    source = modules[module]
    tree = ast.parse(source)
    package = module if _is_package(module, modules) else module.rpartition(".")[0]
    for node, in_function in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, node.lineno, in_function)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            names = [f"{base}.{alias.name}" for alias in node.names]
            # "from . import queue" imports the module huddle.queue, not the package.
            if not all(name in modules for name in names):
                yield Import(base, node.lineno, in_function)
            for name in names:
                yield Import(name, node.lineno, in_function)


def _is_package(module: str, modules: dict[str, str]) -> bool:
    return any(other.startswith(module + ".") for other in modules)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _walk(tree: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for node in ast.iter_child_nodes(tree):
        yield node, in_function
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from _walk(node, inside)


def module_edges(modules: dict[str, str]) -> dict[str, set[str]]:
    """Which of the tree's modules each module imports (the names that are modules)."""
    return {
        module: {i.target for i in imports_of(module, modules) if i.target in modules} - {module}
        for module in modules
    }


def is_web(module: str) -> bool:
    """Views, pages, forms, the command line and the app's own web plumbing."""
    last = module.rpartition(".")[2]
    return module in WEB_MODULES or last in WEB_PARTS or module.startswith("huddle.cli")


def is_service(module: str) -> bool:
    """The work below the web: everything but the web, the pipeline, the foundation, the
    mail and the jobs (packages' empty ``__init__`` files included, which is harmless)."""
    return not (
        is_web(module)
        or module.startswith("huddle.pipeline")
        or module in FOUNDATION
        or module in ("huddle.mail", "huddle.jobs")
    )


# The rules: each returns what breaks it, in words; nothing when it holds.


def pipeline_is_pure(modules: dict[str, str]) -> list[str]:
    """The pipeline imports the standard library, its parsing libraries and itself only."""
    found = []
    for module in modules:
        if not module.startswith("huddle.pipeline"):
            continue
        for imported in imports_of(module, modules):
            root = imported.target.split(".")[0]
            if imported.target.startswith("huddle.pipeline") or root == "__future__":
                continue
            if root in sys.stdlib_module_names or root in PIPELINE_MAY_IMPORT:
                continue
            found.append(f"{module}:{imported.line} imports {imported.target}")
    return sorted(set(found))


def import_cycles(modules: dict[str, str]) -> list[str]:
    """Modules that import each other, directly or in a loop (one loop per line)."""
    edges = module_edges(modules)
    cycles, done, path = [], set(), []

    def visit(module: str) -> None:
        if module in path:
            cycles.append(" -> ".join([*path[path.index(module) :], module]))
            return
        if module in done:
            return
        path.append(module)
        for target in sorted(edges[module]):
            visit(target)
        path.pop()
        done.add(module)

    for module in sorted(modules):
        visit(module)
    return cycles


def imports_inside_functions(modules: dict[str, str]) -> list[str]:
    """``huddle`` imports made inside a function, outside the command line and create_app."""
    found = []
    for module in modules:
        if module.startswith("huddle.cli") or module == "huddle":
            continue
        for imported in imports_of(module, modules):
            if imported.in_function and imported.target.startswith("huddle"):
                found.append(f"{module}:{imported.line} imports {imported.target} in a function")
    return sorted(set(found))


def busy_package_inits(modules: dict[str, str]) -> list[str]:
    """Packages whose ``__init__`` holds more than a docstring; but for ``huddle`` (the app)
    and ``huddle.cli`` (the command line's entry, which gathers every command)."""
    found = []
    for module, source in modules.items():
        if module in ("huddle", "huddle.cli") or not _is_package(module, modules):
            continue
        body = ast.parse(source).body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        if body:
            found.append(f"{module}/__init__.py has code (line {body[0].lineno})")
    return found


def services_stay_below_the_web(modules: dict[str, str]) -> list[str]:
    """Services never use the request, render templates, or import the jobs or the mail."""
    found = []
    banned = {"flask.request", "flask.render_template", "huddle.jobs", "huddle.mail"}
    for module in modules:
        if not is_service(module):
            continue
        for imported in imports_of(module, modules):
            if imported.target in banned:
                found.append(f"{module}:{imported.line} imports {imported.target}")
    return sorted(set(found))


def only_jobs_join_services_and_mail(modules: dict[str, str]) -> list[str]:
    """Below the web, only ``huddle.jobs`` imports the mail; nothing imports the jobs; the
    mail imports no service."""
    found = []
    edges = module_edges(modules)
    for module, targets in edges.items():
        if "huddle.jobs" in targets:
            found.append(f"{module} imports huddle.jobs (queue the job by its name)")
        if "huddle.mail" in targets and not is_web(module) and module != "huddle.jobs":
            found.append(f"{module} imports huddle.mail")
    for target in edges.get("huddle.mail", ()):
        if is_service(target):
            found.append(f"huddle.mail imports the service {target}")
    return sorted(found)


def only_mail_talks_to_the_server(modules: dict[str, str]) -> list[str]:
    """No module but ``huddle.mail`` imports Flask-Mail, smtplib or the mail extension."""
    found = []
    for module in modules:
        if module in ("huddle.mail", "huddle.extensions", "huddle.devmail"):
            continue
        for imported in imports_of(module, modules):
            if imported.target.split(".")[0] in MAIL_TALK or imported.target in MAIL_TALK:
                found.append(f"{module}:{imported.line} imports {imported.target}")
    return sorted(set(found))


def jobs_queued_by_name(modules: dict[str, str]) -> list[str]:
    """Every ``enqueue(...)`` names its job as a string, and that job exists in huddle.jobs."""
    jobs = {
        node.name
        for node in ast.parse(modules.get("huddle.jobs", "")).body
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    }
    found = []
    for module, source in modules.items():
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and _called_name(node) == "enqueue"):
                continue
            first = node.args[0] if node.args else None
            if module == "huddle.queue" and isinstance(first, ast.Name):
                continue  # the definition's own call to RQ, with the name it was given
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                found.append(f"{module}:{node.lineno} queues a job that is not named by a string")
            elif not first.value.startswith("huddle.jobs.") or first.value[12:] not in jobs:
                found.append(f"{module}:{node.lineno} queues {first.value}, not a job of ours")
    return found


def views_hold_no_transaction(modules: dict[str, str]) -> list[str]:
    """No view or page commits, rolls back, flushes, adds, deletes or merges: services do."""
    found = []
    for module, source in modules.items():
        if module.rpartition(".")[2] not in ("views", "pages"):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = ast.unparse(node.func.value)
                if owner.endswith("session") and node.func.attr in SESSION_WRITES:
                    found.append(f"{module}:{node.lineno} calls {owner}.{node.func.attr}")
    return found


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


RULES = [
    pipeline_is_pure,
    import_cycles,
    imports_inside_functions,
    busy_package_inits,
    services_stay_below_the_web,
    only_jobs_join_services_and_mail,
    only_mail_talks_to_the_server,
    jobs_queued_by_name,
    views_hold_no_transaction,
]


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    return module_sources()


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_code_keeps_the_rule(rule, tree):
    assert rule(tree) == []


def test_the_tree_is_read_whole(tree):
    # A rule over a tree it cannot see proves nothing: the modules the rules speak of are there.
    for module in ("huddle", "huddle.jobs", "huddle.mail", "huddle.pipeline.reading"):
        assert module in tree
    assert {"huddle.imports.views", "huddle.imports.drafts"} <= set(tree)
    edges = module_edges(tree)
    assert "huddle.imports.drafts" in edges["huddle.imports.views"]
    assert "huddle.pipeline.problems" in edges["huddle.pipeline.reading"]


# Each rule, broken once in a small tree: it must say so.

BASE = {
    "huddle": '"""The app."""\nfrom .imports import views\n',
    "huddle.jobs": '"""Jobs."""\nfrom . import mail\nfrom .imports import drafts\n\n\n'
    "def run_import(import_id):\n    return drafts\n",
    "huddle.mail": '"""Mail."""\nimport smtplib\n',
    "huddle.queue": '"""Queue."""\n\n\ndef enqueue(job, *args):\n    return rq.enqueue(job)\n',
    "huddle.extensions": '"""Extensions."""\n',
    "huddle.imports": '"""Imports."""\n',
    "huddle.imports.views": '"""Views."""\nfrom flask import request\nfrom .. import mail\n'
    "from . import drafts\n",
    "huddle.imports.drafts": '"""Drafts."""\nfrom .. import queue\n\n\n'
    'def start(run):\n    queue.enqueue("huddle.jobs.run_import", run.id)\n',
    "huddle.pipeline": '"""Pipeline."""\n',
    "huddle.pipeline.reading": '"""Reading."""\nimport csv\n'
    "from python_calamine import CalamineWorkbook\nfrom .problems import FileProblem\n",
    "huddle.pipeline.problems": '"""Problems."""\n',
}

BREAKS = [
    (pipeline_is_pure, "huddle.pipeline.reading", "from flask import current_app\n"),
    (pipeline_is_pure, "huddle.pipeline.reading", "from sqlalchemy import select\n"),
    (pipeline_is_pure, "huddle.pipeline.reading", "from ..models import User\n"),
    (import_cycles, "huddle.imports.drafts", "from . import views\n"),
    (import_cycles, "huddle.pipeline.problems", "from .reading import csv\n"),
    (imports_inside_functions, "huddle.imports.drafts", "def f():\n    from .. import jobs\n"),
    (busy_package_inits, "huddle.imports", "from . import views\n"),
    (services_stay_below_the_web, "huddle.imports.drafts", "from flask import request\n"),
    (services_stay_below_the_web, "huddle.imports.drafts", "from flask import render_template\n"),
    (services_stay_below_the_web, "huddle.imports.drafts", "from .. import mail\n"),
    (only_jobs_join_services_and_mail, "huddle.imports.views", "from ..jobs import run_import\n"),
    (only_jobs_join_services_and_mail, "huddle.mail", "from .imports import drafts\n"),
    (only_mail_talks_to_the_server, "huddle.imports.drafts", "import smtplib\n"),
    (only_mail_talks_to_the_server, "huddle.imports.views", "from ..extensions import mail\n"),
    (jobs_queued_by_name, "huddle.imports.drafts", "queue.enqueue(run_import, 1)\n"),
    (jobs_queued_by_name, "huddle.imports.drafts", 'queue.enqueue("huddle.jobs.run_imprt", 1)\n'),
    (views_hold_no_transaction, "huddle.imports.views", "db.session.commit()\n"),
    (views_hold_no_transaction, "huddle.imports.views", "db.session.delete(run)\n"),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_small_tree_keeps_every_rule(rule):
    assert rule(BASE) == []


@pytest.mark.parametrize(
    ("rule", "module", "added"),
    BREAKS,
    ids=[f"{rule.__name__}-{module}-{i}" for i, (rule, module, _) in enumerate(BREAKS)],
)
def test_a_rule_broken_once_is_reported(rule, module, added):
    broken = {**BASE, module: BASE[module] + added}
    found = rule(broken)
    assert found, f"{rule.__name__} did not notice: {added!r} in {module}"
    assert any(module in line for line in found), found


def test_every_rule_is_shown_to_fail():
    assert {rule for rule, _, _ in BREAKS} == set(RULES)
