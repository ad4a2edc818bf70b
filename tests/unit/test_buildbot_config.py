from venvdeb.buildbot.config import identifier, make_config
from tests.conftest import PROJECT


def test_builders_come_from_packaging():
    config = make_config(PROJECT)
    assert [b.name for b in config["builders"]] == ["wheelhouse-2025.2"]
    assert config["buildbotNetUsageData"] is None
    assert "interface=127.0.0.1" in config["www"]["port"]


def test_identifier():
    assert identifier("force-wheelhouse-2025.2") == "force_wheelhouse_2025_2"
