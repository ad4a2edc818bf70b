"""The closure of a release's services under its constraints, for the target interpreter.

Upstream constraints and pip-tools locks pin every distribution to one version, so the closure
is a walk, not a search: each name takes its pin, each pin's own requirements (with environment
markers evaluated for the target, extras followed) add names, until nothing new appears. A name
the constraints do not pin takes the newest version that fits what asked for it, and is reported
as unpinned. A pin that does not satisfy a requirement is a conflict. Every failure is collected;
one never hides another.

The provider is the boundary: the index (and the sdist builder, since an sdist's requirements
are known only once it is built) when the wheelhouse is made, the wheelhouse's manifest when a
service is built from it; unit tests pass a fake. The walk is the model's because both stages
need the same answer to "what does this service need under these pins".
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..errors import PackageFailure, ProviderFailure, VenvdebError
from .constraints import Pin


@dataclass(frozen=True)
class Artifact:
    """One file of a distribution's release: what the closure is made of."""

    name: str  # canonical project name
    version: str
    filename: str
    url: str
    sha256: str
    kind: str  # "wheel" or "sdist"
    has_metadata: bool = False  # PEP 658: METADATA served beside the file

    def as_dict(self) -> dict:
        return dict(vars(self))


class Provider(Protocol):
    def versions(self, name: str) -> list[Version]: ...
    def artifact(self, name: str, version: str) -> Artifact: ...
    def requirements(self, artifact: Artifact) -> list[Requirement]: ...


@dataclass
class Node:
    name: str
    version: str
    artifact: Artifact
    requires: list[Requirement] = field(default_factory=list)
    extras: set[str] = field(default_factory=set)
    pinned: bool = True
    required_by: set[str] = field(default_factory=set)


@dataclass
class Resolution:
    nodes: dict[str, Node]
    failures: list[PackageFailure]
    unpinned: list[str]


@dataclass(frozen=True)
class Root:
    requirement: Requirement
    origin: str  # who asks, for messages: "service nova (packaging/services/nova.toml)"


class Resolver:
    def __init__(self, pins: dict[str, Pin], markers: dict, provider: Provider, *,
                 constraints_origin: str = "constraints", jobs: int = 16, progress=None):
        self.pins = pins
        self.markers = markers
        self.provider = provider
        self.constraints_origin = constraints_origin
        self.jobs = jobs
        self.progress = progress

    def _applies(self, req: Requirement, extra: str = "") -> bool:
        return req.marker is None or req.marker.evaluate({**self.markers, "extra": extra})

    def resolve(self, roots: list[Root], follow: bool = True) -> Resolution:
        asked: dict[str, list[tuple[Requirement, str]]] = defaultdict(list)
        extras: dict[str, set[str]] = defaultdict(set)
        nodes: dict[str, Node] = {}
        failures: dict[str, PackageFailure] = {}
        for root in roots:
            if self._applies(root.requirement):
                name = canonicalize_name(root.requirement.name)
                asked[name].append((root.requirement, root.origin))
                extras[name] |= set(root.requirement.extras)

        expanded: dict[str, frozenset[str]] = {}
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            while True:
                new = sorted(n for n in asked if n not in nodes and n not in failures)
                if new:
                    for name, result in zip(new, pool.map(lambda n: self._visit(n, asked[n], follow), new)):
                        if isinstance(result, PackageFailure):
                            failures[name] = result
                        else:
                            nodes[name] = result
                    if self.progress:
                        self.progress("resolve", len(nodes) + len(failures), len(asked))
                todo = [n for n in sorted(nodes) if expanded.get(n) != frozenset(extras[n])]
                if not todo and not [n for n in asked if n not in nodes and n not in failures]:
                    break
                for name in todo:
                    node = nodes[name]
                    node.extras = set(extras[name])
                    expanded[name] = frozenset(extras[name])
                    for req in node.requires:
                        if any(self._applies(req, e) for e in ("", *sorted(node.extras))):
                            dep = canonicalize_name(req.name)
                            label = f"{node.name} {node.version}"
                            if (req, label) not in asked[dep]:
                                asked[dep].append((req, label))
                            extras[dep] |= set(req.extras)

        for name, node in nodes.items():
            node.required_by = {origin for _, origin in asked[name]}
            failure = self._check(name, node.version, node.pinned, asked[name])
            if failure:
                failures[name] = failure
        unpinned = sorted(n for n, node in nodes.items() if not node.pinned)
        return Resolution(nodes=nodes, failures=list(failures.values()), unpinned=unpinned)

    def _visit(self, name: str, asked: list[tuple[Requirement, str]], follow: bool):
        try:
            pin = self.pins.get(name)
            if pin is not None:
                version, pinned = pin.version, True
                # A conflict is the better report than whatever fetching the pin would say.
                conflict = self._check(name, version, True, asked)
                if conflict:
                    return conflict
            else:
                version, pinned = self._newest(name, asked), False
            artifact = self.provider.artifact(name, version)
            if pin is not None and pin.hashes and artifact.sha256 not in pin.hashes:
                return PackageFailure(
                    name, "verify",
                    f"{artifact.filename} has sha256 {artifact.sha256}, which the lock does not list "
                    f"({self.constraints_origin}:{pin.line})",
                    "recompile the lock (venvdeb lock) if the upload is legitimate",
                )
            requires = self.provider.requirements(artifact) if follow else []
            return Node(name=name, version=version, artifact=artifact, requires=requires, pinned=pinned)
        except ProviderFailure as exc:
            return PackageFailure(name, exc.phase, exc.reason, exc.hint)
        except VenvdebError as exc:
            return PackageFailure(name, "fetch", exc.message, exc.hint)

    def _newest(self, name: str, asked) -> str:
        for version in self.provider.versions(name):
            if all(req.specifier.contains(version, prereleases=False) for req, _ in asked):
                return str(version)
        wanted = ", ".join(f"{req} (from {origin})" for req, origin in asked)
        raise ProviderFailure(
            "resolve", f"not pinned by the constraints, and no release fits {wanted}",
            f"pin {name} in {self.constraints_origin}",
        )

    def _check(self, name: str, version: str, pinned: bool, asked) -> PackageFailure | None:
        clashes = [
            f"{origin} requires {req}" for req, origin in asked
            if req.specifier and not req.specifier.contains(version, prereleases=True)
        ]
        if not clashes:
            return None
        if pinned:
            pin = self.pins[name]
            reason = f"the constraints pin {name}=={version} ({self.constraints_origin}:{pin.line}), but " + "; ".join(clashes)
            hint = f"change the pin of {name}, or the version of what requires it"
        else:
            reason = f"resolved to {version} before all requirements were known: " + "; ".join(clashes)
            hint = f"pin {name} in {self.constraints_origin}"
        return PackageFailure(name, "conflict", reason, hint)
