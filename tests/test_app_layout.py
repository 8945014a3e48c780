"""The browser app's shape (templates/app/): features meet only on the seam (store, actions,
events, services), so no feature imports another, and no module imports itself back through
others. Read from the import statements; no browser, no bundler."""

import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "templates" / "app"
# `import … from "./x.js"`, `import "./x.js"`, `export … from "./x.js"` and `import("./x.js")`.
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""")


def app_imports(app: Path = APP) -> dict[str, set[str]]:
    """Each module (path relative to the app) and the app modules it imports."""
    graph = {}
    for path in sorted(app.rglob("*.js")):
        imported = set()
        for specifier in IMPORT.findall(path.read_text()):
            target = (path.parent / specifier).resolve()
            assert target.is_file(), f"{path.relative_to(app)} imports {specifier}, which does not exist"
            imported.add(target.relative_to(app.resolve()).as_posix())
        graph[path.relative_to(app).as_posix()] = imported
    return graph


def feature_imports(graph: dict[str, set[str]]) -> list[str]:
    def is_feature(name: str) -> bool:
        return name.startswith("features/")

    return sorted(
        f"{name} → {target}"
        for name, targets in graph.items()
        if is_feature(name)
        for target in targets
        if is_feature(target)
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules that import each other."""
    found = []
    state: dict[str, str] = {}  # name → "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def test_the_app_is_read():
    graph = app_imports()
    assert "main.js" in graph and graph["main.js"], "main.js should import the app's modules"
    assert any(name.startswith("features/") for name in graph)


def test_no_feature_imports_another_feature():
    edges = feature_imports(app_imports())
    assert not edges, (
        "A feature imports another feature; make the shared helper a service (no DOM, not under "
        "features/) or let the feature that owns the slice react to an event or a store change:\n"
        + "\n".join(edges)
    )


SERVICES = ("core", "runtime", "learning", "media", "files")


def test_services_import_no_feature_view_or_api():
    """Services have no DOM and no slice of their own: what they need arrives as arguments."""
    graph = app_imports()
    edges = sorted(
        f"{name} → {target}"
        for name, targets in graph.items()
        if name.split("/")[0] in SERVICES
        for target in targets
        if target.split("/")[0] in ("features", "ui", "api")
    )
    assert not edges, "A service imports a feature, a view or the API:\n" + "\n".join(edges)


def test_no_import_cycle():
    found = cycles(app_imports())
    assert not found, "Import cycles under templates/app/:\n" + "\n".join(" → ".join(c) for c in found)


def test_the_checks_find_what_they_look_for(tmp_path):
    """The two checks above would fail on a tree that has what they forbid."""
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "a.js").write_text('import { b } from "./b.js";\nexport const a = 1;\n')
    (tmp_path / "features" / "b.js").write_text('import { c } from "../c.js";\nexport const b = 1;\n')
    (tmp_path / "c.js").write_text('export { a } from "./features/a.js";\nconst d = import("./d.js");\n')
    (tmp_path / "d.js").write_text("export const d = 1;\n")
    graph = app_imports(tmp_path)
    assert graph["c.js"] == {"features/a.js", "d.js"}
    assert feature_imports(graph) == ["features/a.js → features/b.js"]
    assert cycles(graph) == [["c.js", "features/a.js", "features/b.js", "c.js"]]


def test_no_source_file_over_500_lines():
    templates = APP.parent
    long = {
        path.relative_to(templates).as_posix(): count
        for path in templates.rglob("*")
        if path.is_file() and (count := len(path.read_text().splitlines())) > 500
    }
    assert not long, f"Split these modules (over 500 lines): {long}"
