"""The point-release poller's decisions, and where the farm wires it."""

from packaging.version import Version

from venvdeb.buildbot import point_releases
from venvdeb.buildbot.config import make_config
from venvdeb.model import load_release


def test_what_the_poller_announces():
    announce = point_releases.to_announce
    # First look: newer than what the constraints pin is built; what they pin (or nothing pinned:
    # the wheelhouse takes the newest anyway) is not.
    assert announce(Version("33.0.3"), None, "33.0.2")
    assert not announce(Version("33.0.2"), None, "33.0.2")
    assert not announce(Version("33.0.3"), None, None)
    # Later: only what is newer than the last one announced.
    assert announce(Version("33.0.4"), "33.0.3", "33.0.2")
    assert not announce(Version("33.0.3"), "33.0.3", "33.0.2")
    assert not announce(None, "33.0.3", "33.0.2")


def test_a_series_is_polled_and_built_a_pin_is_not(make_root, tmp_path):
    root = make_root("six===1.16.0\nidna===3.10\n", {"six": ("six", "1.16.*"), "idna": ("idna", "3.10")})
    assert point_releases.baseline(load_release(root, "t1"), "Six") == "1.16.0"
    config = make_config(tmp_path, {"VENVDEB_BUILDBOT_POLL_INTERVAL": "60"})
    polled = [p for p in config["change_source"] if isinstance(p, point_releases.PointReleasePoller)]
    assert [(p._config_kwargs["project"], p._config_kwargs["series"], p._config_kwargs["point"],
             p._config_kwargs["baseline"], p._config_kwargs["pollInterval"]) for p in polled] == [
        ("six", "1.16.*", "t1-bookworm", "1.16.0", 60)]
    (scheduler,) = [s for s in config["schedulers"] if s.name == "point_releases_t1_bookworm"]
    assert scheduler.builderNames == ["wheelhouse-t1-bookworm"]
    assert scheduler._config_kwargs["properties"] == {"trigger_services": True}
