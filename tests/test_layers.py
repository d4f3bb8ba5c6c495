"""Imports flow one way: cli → api → query, training → text, store → config → fileio, safe_yaml → errors.

The test reads the import statements of every module of the package (with `ast`, so nothing
is imported) and fails on an import that runs up the layers or sideways between two
subpackages of the same layer.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "word2vec"

# Lower numbers are lower layers: a module may import only from its own part or a lower layer.
LAYERS = {
    "errors": 0, "version": 0,
    "safe_yaml": 1, "fileio": 1,
    "config": 2,
    "text": 3, "store": 3,
    "training": 4, "query": 4,
    "api": 5, "distributed": 5,
    "cli": 6,
    "__init__": 7, "__main__": 7,
}


def part_of(module):
    """The part of the package that a dotted module name (relative to `word2vec`) belongs to."""
    return module.split(".")[0] if module else "__init__"


def module_name(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(source, module, is_package):
    """The package-internal modules (dotted, relative to `word2vec`) that `source` imports."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if module == "__init__":
        package = []
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import a, b
                    found += [".".join(base + [alias.name]) for alias in node.names]
                    continue
                found.append(target)
            elif node.module and (node.module == "word2vec" or node.module.startswith("word2vec.")):
                found.append(node.module.removeprefix("word2vec").lstrip("."))
        elif isinstance(node, ast.Import):
            found += [a.name.removeprefix("word2vec").lstrip(".") for a in node.names
                      if a.name == "word2vec" or a.name.startswith("word2vec.")]
    return found


def violations(source, module, is_package=False):
    """The imports of one module that run up the layers or sideways, as 'module -> target' strings."""
    own = part_of(module)
    bad = []
    for target in imported_modules(source, module, is_package):
        other = part_of(target)
        if other == own:
            continue
        if other not in LAYERS:
            bad.append(f"{module} -> {target} (not in any layer)")
        elif LAYERS[other] >= LAYERS[own]:
            bad.append(f"{module} -> {target}")
    return bad


def all_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, module_name(path) if path.name != "__init__.py" or path.parent != PACKAGE else "__init__"


def test_every_part_has_a_layer():
    parts = {part_of(module) for _, module in all_modules()}
    assert parts <= set(LAYERS), parts - set(LAYERS)


@pytest.mark.parametrize("path,module", list(all_modules()), ids=[m for _, m in all_modules()])
def test_imports_flow_one_way(path, module):
    assert violations(path.read_text(encoding="utf-8"), module, path.name == "__init__.py") == []


@pytest.mark.parametrize("source,module", [
    ("from ..cli import main", "training.loop"),            # up: train imports the CLI
    ("from ..query import vectors", "training.loop"),       # sideways: train and query are one layer
    ("from word2vec.training import loop", "store.tables"),  # absolute, up
    ("from .. import api", "text.corpus"),               # `from .. import name`
    ("import word2vec.cli", "config"),                   # plain import
])
def test_an_upward_import_is_caught(source, module):
    assert violations(source, module) != []


@pytest.mark.parametrize("source,module", [
    ("from ..store import tables", "training.loop"),
    ("from ..config import Config", "text.vocab"),
    ("from . import kernels", "training.loop"),
    ("from .. import errors", "query.vectors"),
])
def test_a_downward_import_passes(source, module):
    assert violations(source, module) == []
