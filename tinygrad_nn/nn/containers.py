"""ModuleList and ModuleDict: PyTorch's containers that register their modules by index or key.

(A plain list or dict attribute of Modules is walked too; these add PyTorch's API and its
parameter names: ``layers.0.weight`` for a ModuleList attribute named ``layers``.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module


def _module(owner: str, value: Any) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{owner}: expected a Module, got {type(value).__name__}")
    return value


class ModuleList(Module):
    """A list of modules, indexed like a list; it has no forward (call the modules yourself)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        self.items: list[Module] = [_module("ModuleList", m) for m in (modules or [])]

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, module in enumerate(self.items):
            yield str(i), module

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(self.items[index])
        return self.items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self.items[index] = _module("ModuleList", module)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.items)

    def append(self, module: Module) -> ModuleList:
        self.items.append(_module("ModuleList.append", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        self.items.insert(index, _module("ModuleList.insert", module))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it and call each "
                                  "module (or use nn.Sequential)")


class ModuleDict(Module):
    """Modules by name, in insertion order; parameter names are ``key.weight``."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        self.entries: dict[str, Module] = {}
        self.update(modules or {})

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self.entries.items()

    def __getitem__(self, key: str) -> Module:
        return self.entries[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self.entries[key] = _module(f"ModuleDict[{key!r}]", module)

    def __delitem__(self, key: str) -> None:
        del self.entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def keys(self) -> Iterable[str]:
        return self.entries.keys()

    def values(self) -> Iterable[Module]:
        return self.entries.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self.entries.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: call its modules by key")
