"""What a package must have passed, for exactly its bytes, before it is published or promoted.

A gate records its own result, for the file it checked, by sha256 (Repository.record_gate):
`venvdeb lint --record`, `venvdeb smoke --record`, `venvdeb wheelhouse verify --record`. No
command records a result it did not compute: a builder's word that its package passed counts
for nothing. Publication to staging and promotion to production both require each gate of the
package's kind to have passed for the very file:

- a service package: lint and smoke;
- a release's wheelhouse: lint and verify (every wheel against its manifest and the index).

A service of a point that runs a cloud (it has keystone) must also have passed the cloud gate
(`venvdeb cloud --record`) with exactly that version installed beside the point's others.

Promotion to production requires an independent rebuild too: the same version built again from
its recorded inputs gave the same bytes (`venvdeb rebuild --record`, `venvdeb wheelhouse rebuild
--record`, which builds every sdist afresh; in a farm the master rebuilds what a worker built).

A farm that runs no smoke (its setting ``smoke = false``) publishes to staging after lint alone,
saying so; promotion still requires smoke.
"""

from __future__ import annotations

from ..errors import Rejected

SERVICE = ("lint", "smoke")
WHEELHOUSE = ("lint", "verify")
KNOWN = ("lint", "smoke", "verify", "rebuild", "cloud")
PROMOTE_SERVICE = (*SERVICE, "rebuild")
PROMOTE_WHEELHOUSE = (*WHEELHOUSE, "rebuild")

COMMANDS = {
    "lint": "venvdeb lint {deb} --record",
    "smoke": "venvdeb smoke <release> <service> {deb} --record",
    "verify": "venvdeb wheelhouse verify <release> {deb} --record",
    "rebuild": "venvdeb rebuild <release> <service> {deb} --record",
    "cloud": "venvdeb cloud <release> --dist <distribution> --record",
    "wheelhouse-rebuild": "venvdeb wheelhouse rebuild <release> {deb} --record",
}


def of(package: str, wheelhouses: set[str]) -> tuple[str, ...]:
    """The gates ``package`` passes: a wheelhouse's, if it is one of ``wheelhouses``."""
    return WHEELHOUSE if package in wheelhouses else SERVICE


def to_promote(package: str, wheelhouses: set[str], in_a_cloud: set[str] = frozenset()) -> tuple[str, ...]:
    """What ``package`` must have passed to go to production: its gates and its rebuild, and the
    cloud gate if it is one of ``in_a_cloud``."""
    if package in wheelhouses:
        return PROMOTE_WHEELHOUSE
    return (*PROMOTE_SERVICE, "cloud") if package in in_a_cloud else PROMOTE_SERVICE


def not_passed(record: dict, sha256: str, gates: tuple[str, ...]) -> list[str]:
    """Each of ``gates`` that ``record`` does not show passed for the file ``sha256``, with why."""
    if record.get("sha256") != sha256:
        recorded = f"recorded for another file ({record['sha256'][:12]}...)" if record.get("sha256") else "not run"
        return [f"{gate}: {recorded}" for gate in gates]
    missing = []
    for gate in gates:
        result = record.get(gate)
        if not isinstance(result, dict):
            missing.append(f"{gate}: not run")
        elif result.get("passed") is not True:
            missing.append(f"{gate}: failed")
    return missing


def require(record: dict, sha256: str, gates: tuple[str, ...], package: str, version: str, deb: str,
            action: str) -> None:
    """Refuse ``action`` unless every gate passed for this file."""
    missing = not_passed(record, sha256, gates)
    if missing:
        raise Rejected(f"{package} {version} cannot be {action}: {'; '.join(missing)}",
                       hint="run the gates for this file: "
                            + commands(gates, [g.split(':')[0] for g in missing], deb))


def commands(gates: tuple[str, ...], missing: list[str], deb: str) -> str:
    """The commands that run each of ``missing`` for ``deb`` (a wheelhouse's rebuild is its own)."""
    wheelhouse = "verify" in gates
    return ", then ".join(COMMANDS["wheelhouse-rebuild" if wheelhouse and g == "rebuild" else g].format(deb=deb)
                          for g in missing)
