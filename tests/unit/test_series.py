"""A service that follows a stable series: which point release the wheelhouse holds."""

from types import SimpleNamespace

import pytest
from packaging.version import Version

from venvdeb.errors import VenvdebError
from venvdeb.model.constraints import Pin
from venvdeb.wheelhouse.series import follow, newest


def versions(*texts):
    return [Version(t) for t in texts]


def test_the_newest_final_release_of_the_series():
    found = versions("33.0.1", "33.0.3", "33.0.4rc1", "33.0.5.dev1", "33.1.0", "34.0.0", "33.0.2")
    assert newest(found, "33.0.*") == Version("33.0.3")
    assert newest(found, "33.*") == Version("33.1.0")
    assert newest(versions("33.1.0"), "33.0.*") is None


def release_following(series, index="https://pypi.org/simple"):
    source = SimpleNamespace(series=series, pypi="Nova")
    return SimpleNamespace(services=[SimpleNamespace(name="nova", source=source)], path="r.toml", index_url=index)


def test_a_series_moves_its_pin_to_the_newest_point_release_and_nothing_else():
    said = []
    pins = {"nova": Pin("nova", "33.0.2", hashes=frozenset({"a" * 64})), "oslo-config": Pin("oslo-config", "9.0")}
    moved = follow(release_following("33.0.*"), pins, lambda name: versions("33.0.2", "33.0.3", "33.1.0"),
                   said.append)
    assert moved["nova"] == Pin("nova", "33.0.3") and moved["oslo-config"] == pins["oslo-config"]
    assert said == ["point release: Nova 33.0.2 -> 33.0.3 (series 33.0.*)"]
    # Already the newest: the pin (and its hashes) stays.
    assert follow(release_following("33.0.*"), pins, lambda name: versions("33.0.2"), said.append) == pins
    # Not pinned by the constraints (upstream's upper-constraints do not pin services): pinned now.
    assert follow(release_following("33.0.*"), {}, lambda name: versions("33.0.3"), said.append) == {
        "nova": Pin("nova", "33.0.3")}
    # A pin is never moved.
    assert follow(release_following(None), pins, lambda name: versions("33.0.9"), said.append) == pins


def test_a_series_with_no_release_on_the_index_is_named():
    with pytest.raises(VenvdebError, match="key 'services.nova.version': https://pypi.org/simple has no final "
                                           "release of Nova in the series 34.0.*"):
        follow(release_following("34.0.*"), {}, lambda name: versions("33.0.3", "34.0.0rc1"), print)
