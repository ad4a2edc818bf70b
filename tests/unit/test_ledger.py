from datetime import datetime, timezone

import pytest

from venvdeb.deb import changelog, epoch_of
from venvdeb.model.ledger import Ledger, diff

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_versions_grow_with_content_and_stay_when_unchanged(tmp_path):
    ledger = Ledger(tmp_path / "l.json")
    first, new = ledger.entry_for("d1", {"a": "1"}, now=T0)
    assert (first.version, new) == ("1", True)
    ledger.add(first)
    same, new = Ledger(tmp_path / "l.json").entry_for("d1", {"a": "1"})
    assert (same, new) == (first, False)
    second, new = ledger.entry_for("d2", {"a": "2", "b": "1"}, now=T0)
    assert second.version == "2" and new
    assert second.changes == ("Update a 1 -> 2.", "Add b 1.")
    ledger.add(second)
    # Back to the first content is still a change: the version never goes backwards.
    third, _ = ledger.entry_for("d1", {"a": "1"}, now=T0)
    assert third.version == "3" and third.changes == ("Update a 2 -> 1.", "Remove b 1.")


def test_diff():
    assert diff({"x": "1", "y": "1"}, {"y": "2", "z": "3"}) == ["Remove x 1.", "Update y 1 -> 2.", "Add z 3."]


def test_changelog_is_written_by_python_debian(tmp_path):
    ledger = Ledger(tmp_path / "l.json")
    e1, _ = ledger.entry_for("d1", {"a": "1"}, now=T0)
    ledger.add(e1)
    e2, _ = ledger.entry_for("d2", {"a": "2"}, now=T0)
    text = changelog("pkg", "bookworm", "Me <me@example.org>", ledger.history(e2))
    from debian.changelog import Changelog

    parsed = Changelog(text)
    assert [str(v) for v in parsed.versions] == ["2", "1"]
    assert parsed.distributions == "bookworm"
    assert "Update a 1 -> 2." in text
    assert epoch_of(e2) == int(T0.timestamp())


def test_a_long_change_is_wrapped_at_80_columns_without_splitting_a_word():
    from venvdeb.deb import change_lines

    repo = "/tmp/pytest-of-root/pytest-0/test_forced_and_polled_builds_0/packaging.git"
    reason = f"Automatic build (packaging_b1_bookworm_gitsvc): {repo} master at 310ff1df3350."
    lines = change_lines(reason)
    assert lines[0].startswith("  * Automatic build") and all(line.startswith("    ") for line in lines[1:])
    assert all(len(line) <= 80 for line in lines) and f"    {repo}" in lines
    assert " ".join(line[4:] for line in lines) == reason
    assert change_lines("Short.") == ["  * Short."]


def test_a_wheelhouse_version_says_which_debian_it_is_for(tmp_path):
    ledger = Ledger(tmp_path / "l.json")
    first, _ = ledger.entry_for("d1", {"a": "1"}, now=T0, suffix="+deb13")
    assert first.version == "1+deb13"
    ledger.add(first)
    assert ledger.entry_for("d1", {"a": "1"}, suffix="+deb13") == (first, False)
    second, new = ledger.entry_for("d2", {"a": "2"}, now=T0, suffix="+deb13")
    assert (second.version, new) == ("2+deb13", True)


def test_a_ledger_from_before_the_mark_gets_a_marked_version_for_the_same_content(tmp_path):
    ledger = Ledger(tmp_path / "l.json")
    old, _ = ledger.entry_for("d1", {"a": "1"}, now=T0)
    ledger.add(old)
    again, new = ledger.entry_for("d1", {"a": "1"}, now=T0, suffix="+deb12")
    assert (old.version, again.version, new) == ("1", "2+deb12", True)


def test_builds_at_once_take_distinct_versions_and_every_entry_is_kept(tmp_path):
    """Eight builds of one package at once (threads with their own Ledger objects, as eight
    processes would be): eight versions, eight entries, whatever order they finish in."""
    import threading

    from venvdeb.model.versions import next_version

    path = tmp_path / "state" / "venv-x.ledger.json"
    versions, failed, barrier = [], [], threading.Barrier(8)

    def build(n: int) -> None:
        ledger = Ledger(path)
        barrier.wait()
        version = ledger.reserve(lambda previous: next_version("1.0", previous, "x.toml", 12))
        versions.append(version)
        barrier.wait()  # every version is taken before any build ends
        if n == 3:
            ledger.release(version)  # a failed build published nothing: its version is free again
            failed.append(version)
            return
        ledger.add(ledger.rebuild_entry(version, f"digest{n}", {"x": "1.0"}, "Build.", ("w", "1"), now=T0))

    threads = [threading.Thread(target=build, args=(n,)) for n in reversed(range(8))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == [f"1.0-deb12u{n}" for n in range(1, 9)]
    kept = Ledger(path)
    assert len(kept.entries) == 7 and kept.reserved == []
    assert [e.version for e in kept.entries] == sorted(set(versions) - set(failed))  # u1..u8: one digit
    following = kept.reserve(lambda previous: next_version("1.0", previous, "x.toml", 12))
    assert following == ("1.0-deb12u8" if failed == ["1.0-deb12u8"] else "1.0-deb12u9")


def test_an_entry_whose_version_another_build_took_is_refused(tmp_path):
    import pytest

    from venvdeb.errors import VenvdebError

    a, b = Ledger(tmp_path / "l.json"), Ledger(tmp_path / "l.json")
    first, _ = a.entry_for("d1", {"a": "1"}, now=T0)
    other, _ = b.entry_for("d2", {"a": "2"}, now=T0)
    assert first.version == other.version == "1"
    a.add(first)
    b.add(first)  # the same content twice: one entry
    with pytest.raises(VenvdebError, match="version 1 was taken by another build meanwhile"):
        b.add(other)
    assert [e.digest for e in Ledger(tmp_path / "l.json").entries] == ["d1"]


def test_a_new_entry_names_the_packaging_commit_it_was_built_from(tmp_path):
    ledger = Ledger(tmp_path / "l.json")
    first, _ = ledger.entry_for("d1", {"a": "1"}, now=T0, packaging_commit="0123456789abcdef")
    assert first.changes == ("Initial wheelhouse: 1 wheels.", "Packaging at commit 0123456789abcdef.")
    ledger.add(first)
    # The same content from another commit is the same package: nothing new to record.
    assert ledger.entry_for("d1", {"a": "1"}, packaging_commit="fedcba9876543210") == (first, False)
    service = ledger.rebuild_entry("1.0-deb12u2", "d2", {"a": "2"}, "CVE-2026-1.", ("wh", "2+deb12"),
                                   now=T0, packaging_commit="fedcba9876543210")
    assert service.changes[:2] == ("CVE-2026-1.", "Packaging at commit fedcba9876543210.")
    assert Ledger(tmp_path / "other.json").entry_for("d1", {"a": "1"}, now=T0)[0].changes == (
        "Initial wheelhouse: 1 wheels.",)


def test_the_master_takes_versions_above_what_is_published_and_in_flight(tmp_path, make_root):
    from venvdeb.errors import VenvdebError
    from venvdeb.model import load_release
    from venvdeb.repository.reserve import record_build, reserve_version

    release = load_release(make_root("idna===3.10\n", {"svc": ("idna", "3.10")}), "t1").at("bookworm")
    state = tmp_path / "state"
    # Two builds at once: two versions; one the repository already has is never taken again.
    assert reserve_version(release, "venv-svc", "3.10", state, []) == "3.10-deb12u1"
    assert reserve_version(release, "venv-svc", "3.10", state, []) == "3.10-deb12u2"
    assert reserve_version(release, "venv-svc", "3.10", state, ["3.10-deb12u7"]) == "3.10-deb12u8"
    assert reserve_version(release, "venv-svc", "3.11", state, ["3.10-deb12u7"]) == "3.11-deb12u1"
    with pytest.raises(VenvdebError, match="would go backwards"):
        reserve_version(release, "venv-svc", "3.9", state, [])
    # A worker's ledger entry joins the master's, and its version is no longer in flight.
    worker = Ledger(tmp_path / "worker.json")
    entry = worker.rebuild_entry("3.10-deb12u2", "d", {"idna": "3.10"}, "Build 2.", ("wh", "1+deb12"), now=T0)
    worker.add(entry)
    assert record_build(release, "venv-svc", "3.10-deb12u2", state, tmp_path / "worker.json") == entry
    master = Ledger(state / "t1" / "bookworm" / "venv-svc.ledger.json")
    assert master.entries == [entry] and "3.10-deb12u2" not in master.reserved
    with pytest.raises(VenvdebError, match="no entry for venv-svc 3.10-deb12u9"):
        record_build(release, "venv-svc", "3.10-deb12u9", state, tmp_path / "worker.json")


def test_a_wheelhouse_entry_ends_with_the_constraint_overrides_in_force(tmp_path):
    from venvdeb.model.overrides import Override

    ksa = Override("keystoneauth1", "5.16.0", "nova 34.0.0 requires keystoneauth1>=5.16.0")
    ledger = Ledger(tmp_path / "l.json")
    entry, _ = ledger.entry_for("d1", {"keystoneauth1": "5.16.0"}, now=T0, packaging_commit="a" * 40,
                                notes=(f"Constraint override: {ksa.describe()}",))
    assert entry.changes[-1] == "Constraint override: keystoneauth1 5.16.0: nova 34.0.0 requires keystoneauth1>=5.16.0"
    text = changelog("openstack-wheelhouse-2026.2", "bookworm", "Me <me@example.org>", [entry])
    assert "  * Constraint override: keystoneauth1 5.16.0: nova 34.0.0 requires\n    keystoneauth1>=5.16.0\n" in text


def test_a_changelog_is_the_history_its_build_had_though_another_build_ended_first(tmp_path):
    """Two builds of one package at once, each from the master's ledger as it was (empty); the
    first recorded is u1. A rebuild of u2 must repeat u2's changelog (u2 alone), not the ledger's
    later one (u1, u2); the next build continues from both."""
    master = Ledger(tmp_path / "venv-x.ledger.json")
    first, second = (Ledger(tmp_path / f"worker{n}" / "venv-x.ledger.json") for n in (1, 2))
    u1 = first.rebuild_entry("1.0-deb12u1", "d1", {"x": "1.0"}, "Build 1.", ("w", "1"), now=T0)
    u2 = second.rebuild_entry("1.0-deb12u2", "d2", {"x": "1.0"}, "Build 2.", ("w", "1"), now=T0)
    master.add(u1)
    master.add(u2)
    recorded = Ledger(master.path)
    assert [e.version for e in recorded.history(recorded.entries[1])] == ["1.0-deb12u2"]
    u3 = recorded.rebuild_entry("1.0-deb12u3", "d3", {"x": "1.0"}, "Build 3.", ("w", "1"), now=T0)
    assert u3.follows == "1.0-deb12u2"
    assert [e.version for e in recorded.history(u3)] == ["1.0-deb12u1", "1.0-deb12u2", "1.0-deb12u3"]
    # A ledger from before the entries said what they followed reads as it did: in order.
    legacy = tmp_path / "legacy.ledger.json"
    legacy.write_text(master.path.read_text().replace('"follows": "",', ""))
    old = Ledger(legacy)
    assert old.entries[1].follows is None
    assert [e.version for e in old.history(old.entries[1])] == ["1.0-deb12u1", "1.0-deb12u2"]
