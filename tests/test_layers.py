"""The package's layers point down: no module imports a layer above its own.

The layers are the table in docs/design.md (its ``layers`` block), so the map a newcomer reads
is the one enforced here. Every import counts, the function-local ones too: an upward import
hidden in a function is still an upward dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tinygrad_nn"


def read_layers(design: str) -> dict[str, int]:
    """{top-level module name: layer} from the ``layers`` block of docs/design.md."""
    block = re.search(r"<!-- layers -->\s*```text\n(.*?)```", design, re.S)
    assert block, "docs/design.md has no '<!-- layers -->' block"
    layers: dict[str, int] = {}
    for line in block.group(1).splitlines():
        match = re.match(r"layer (\d+) +\S.*?  +(.+)$", line)
        assert match, f"docs/design.md: cannot read layer line {line!r}"
        for name in match.group(2).split():
            layers[name] = int(match.group(1))
    return layers


def top_level(dotted: str) -> str:
    """"tinygrad_nn.nn.layers" -> "nn"; the package itself is "tinygrad_nn"."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports_of(source: str, module: str, is_package: bool) -> set[str]:
    """The tinygrad_nn modules ``source`` (the module ``module``) imports, as dotted names."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            if node.module:
                found.add(".".join(base + [node.module]))
            else:  # from . import x, y: each name may be a module
                found.update(".".join(base + [alias.name]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_nn"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tinygrad_nn"))
    return found


def upward_imports(sources: dict[str, tuple[str, bool]], layers: dict[str, int]) -> list[str]:
    """Every import of a module in a higher layer, as readable lines; also unplaced modules."""
    problems = []
    for module, (source, is_package) in sorted(sources.items()):
        own = top_level(module)
        if own not in layers:
            problems.append(f"{module}: not on the map (add it to docs/design.md's layers)")
            continue
        for target in sorted(imports_of(source, module, is_package)):
            other = top_level(target)
            if other in layers and layers[other] > layers[own]:
                problems.append(f"{module} (layer {layers[own]}) imports {target} "
                                f"(layer {layers[other]})")
    return problems


def package_sources() -> dict[str, tuple[str, bool]]:
    sources = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        sources[module] = (path.read_text(), is_package)
    return sources


def test_no_module_imports_a_layer_above_its_own():
    layers = read_layers((ROOT / "docs" / "design.md").read_text())
    assert upward_imports(package_sources(), layers) == []


def test_every_layer_on_the_map_exists():
    layers = read_layers((ROOT / "docs" / "design.md").read_text())
    missing = [name for name in layers if name != "tinygrad_nn"
               and not (PACKAGE / f"{name}.py").exists() and not (PACKAGE / name).is_dir()]
    assert missing == []


@pytest.mark.parametrize("line, expected", [
    ("from ..train import fit", ["tinygrad_nn.nn.layers (layer 2) imports tinygrad_nn.train "
                                 "(layer 6)"]),
    ("def f():\n    from .. import cli", ["tinygrad_nn.nn.layers (layer 2) imports "
                                          "tinygrad_nn.cli (layer 9)"]),
    ("import tinygrad_nn.viz.graph", ["tinygrad_nn.nn.layers (layer 2) imports "
                                      "tinygrad_nn.viz.graph (layer 3)"]),
    ("from ..tensor import Tensor\nfrom . import module", []),
])
def test_an_upward_import_is_caught(line, expected):
    layers = read_layers((ROOT / "docs" / "design.md").read_text())
    assert upward_imports({"tinygrad_nn.nn.layers": (line, False)}, layers) == expected


# --------------------------------------------------------------------------------------------
# private names stay in their module
# --------------------------------------------------------------------------------------------

def private_imports(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Every ``from <another module> import _name``: a name with a leading underscore is its
    module's own, so a second module that needs it needs a public name in the right home."""
    found = []
    for module, (source, is_package) in sorted(sources.items()):
        package = module.split(".") if is_package else module.split(".")[:-1]
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                target = ".".join(package[: len(package) - node.level + 1]
                                  + ([node.module] if node.module else []))
            elif (node.module or "").startswith("tinygrad_nn"):
                target = node.module
            else:
                continue
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not name.startswith("__") and target != module:
                    found.append(f"{module} imports {name} from {target}")
    return found


def test_no_module_imports_another_modules_private_names():
    assert private_imports(package_sources()) == []


def private_uses(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Every ``obj._name`` in one module where ``_name`` is a private function or method defined
    only in other modules (``Tensor._make``, ``x._lift``): calling another module's private
    code couples the two as much as importing its private names."""
    trees = {module: ast.parse(source) for module, (source, _) in sources.items()}
    defined: dict[str, set[str]] = {}
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.name.startswith("_") and not node.name.startswith("__")
                    and not node.name.endswith("_")):  # _repr_png_: IPython's protocol
                defined.setdefault(node.name, set()).add(module)
    found = []
    for module, tree in sorted(trees.items()):
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr in defined
                    and module not in defined[node.attr]
                    and ast.unparse(node.value) not in ("self", "cls", "super()")):
                found.append(f"{module}:{node.lineno} uses {ast.unparse(node)}, defined in "
                             f"{', '.join(sorted(defined[node.attr]))}")
    return sorted(found)


def test_no_module_calls_another_modules_private_functions():
    assert private_uses(package_sources()) == []


def test_a_private_use_across_modules_is_caught():
    sources = {"tinygrad_nn.tensor": ("class Tensor:\n    def _make(cls): ...\n", False),
               "tinygrad_nn.ops": ("x = Tensor._make(1)\ny = self._make(2)\n", False)}
    assert private_uses(sources) == [
        "tinygrad_nn.ops:1 uses Tensor._make, defined in tinygrad_nn.tensor"]


@pytest.mark.parametrize("line, expected", [
    ("from ..train import _mode", ["tinygrad_nn.nn.layers imports _mode from tinygrad_nn.train"]),
    ("def f():\n    from .module import _flatten",
     ["tinygrad_nn.nn.layers imports _flatten from tinygrad_nn.nn.module"]),
    ("from tinygrad_nn.tensor import _generator",
     ["tinygrad_nn.nn.layers imports _generator from tinygrad_nn.tensor"]),
    ("from ..tensor import Tensor\nfrom __future__ import annotations\n"
     "from ..version import __version__\nfrom numpy import _core", []),
])
def test_a_private_import_is_caught(line, expected):
    assert private_imports({"tinygrad_nn.nn.layers": (line, False)}) == expected
