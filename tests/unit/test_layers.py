"""The README's map is a contract: layers, no import circles, no modules that only re-export, jobs seen from the views."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"

#: The one face made only of imports: every model, loaded together (see its docstring).
MODEL_REGISTRY = "app.models"

#: The one circle allowed: the SQLAlchemy relationship pair that names its partner by string.
ALLOWED_CIRCLES = [{"app.models.branches", "app.models.surveys"}]


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[set[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(component)
    return circles


def test_the_layers_of_the_readme_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    run = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_no_import_circle_between_files_of_the_app():
    graph = grimp.build_graph("app")
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    edges = {module: {target for target in targets if target.startswith("app")} for module, targets in edges.items()}
    circles = [circle for circle in _circles(edges) if circle not in ALLOWED_CIRCLES]
    assert not circles, "import circles: " + "; ".join(" ↔ ".join(sorted(c)) for c in circles)


def test_no_module_only_re_exports_its_neighbours():
    only_imports = []
    for name, path in _modules().items():
        body = ast.parse(path.read_text()).body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        imports = [node for node in body if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")]
        rest = [
            node for node in body
            if not isinstance(node, (ast.Import, ast.ImportFrom))
            and not (isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets))
        ]
        if imports and not rest and name != MODEL_REGISTRY:
            only_imports.append(name)
    assert not only_imports, f"modules that only re-export: {only_imports}"


def _job_entry_points() -> dict[str, set[str]]:
    """Per module of app.jobs, the functions that run as a job (their body enters ``job_context()``)."""
    entry_points: dict[str, set[str]] = {"app.jobs": {"enqueue"}}
    for name, path in _modules().items():
        if not name.startswith("app.jobs."):
            continue
        entry_points[name] = {
            node.name
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.FunctionDef)
            and any(
                isinstance(item.context_expr, ast.Call) and getattr(item.context_expr.func, "id", "") == "job_context"
                for with_node in ast.walk(node) if isinstance(with_node, ast.With)
                for item in with_node.items
            )
        }
    return entry_points


def test_views_and_forms_take_only_enqueue_and_job_entry_points_from_the_jobs():
    allowed = _job_entry_points()
    assert allowed["app.jobs.responses"], "no entry point found: the check itself is broken"
    wrong = []
    for name, path in _modules().items():
        if not name.startswith(("app.blueprints", "app.forms")):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app.jobs"):
                wrong += [f"{name}: {node.module}.{a.name}" for a in node.names if a.name not in allowed.get(node.module, ())]
            elif isinstance(node, ast.ImportFrom) and node.module == "app" and any(a.name == "jobs" for a in node.names):
                used = {n.attr for n in ast.walk(tree)
                        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "jobs"}
                wrong += [f"{name}: app.jobs.{attr}" for attr in used - allowed["app.jobs"]]
            elif isinstance(node, ast.Import) and any(a.name.startswith("app.jobs") for a in node.names):
                wrong.append(f"{name}: import app.jobs")
    assert not wrong, f"views reaching into the jobs: {wrong}"
