"""docs/reference.md is generated from the code (python -m venvdeb.reference): it says every key,
command, option and farm setting, and the checked-in copy is what the code says today."""

from __future__ import annotations

import dataclasses

from tests.conftest import PROJECT
from venvdeb import reference
from venvdeb.buildbot import settings
from venvdeb.model import apis, cloud, overrides, release, service


def test_the_checked_in_reference_is_what_the_code_says():
    checked_in = (PROJECT / "docs" / "reference.md").read_text()
    assert checked_in == reference.render(), "docs/reference.md is out of date: run 'make reference' and commit it"


def test_the_operator_guide_shows_the_files_the_cloud_gate_writes():
    checked_in = (PROJECT / "docs" / "cloud-controller.md").read_text()
    newest = max((p.stem for p in (PROJECT / "packaging" / "releases").glob("20*.toml")), key=lambda n: n.split("."))
    assert checked_in == reference.controller(PROJECT / "packaging", newest), \
        "docs/cloud-controller.md is out of date: run 'make reference' and commit it"
    assert "connection = mysql+pymysql://nova:NOVA_DBPASS@controller/nova_api" in checked_in


def all_keys(schema, prefix=""):
    for name, key in schema.items():
        yield prefix + name, key
        if key.table:
            yield from all_keys(key.table, f"{prefix}{name}.")


def test_every_key_and_setting_says_what_it_means():
    schemas = {"release": release.RELEASE_SCHEMA, "release service": release.RELEASE_SERVICE_SCHEMA,
               "override": overrides.OVERRIDE_SCHEMA, "service": service.SERVICE_SCHEMA,
               "daemon": service.DAEMON_SCHEMA, "lintian override": service.OVERRIDE_SCHEMA,
               "wsgi": apis.WSGI_SCHEMA, "smoke": apis.SMOKE_SCHEMA, "request": apis.REQUEST_SCHEMA,
               "command": apis.COMMAND_SCHEMA, "cloud": cloud.CLOUD_SCHEMA, "step": cloud.STEP_SCHEMA}
    undocumented = [f"{what}: {name}" for what, schema in schemas.items() for name, key in all_keys(schema)
                    if not key.doc]
    undocumented += [f"setting: {f.name}" for f in dataclasses.fields(settings.Settings)
                     if f.name in settings.ENVIRONMENT and not f.metadata.get("doc")]
    assert undocumented == []
    # ... and each documented setting can be set, in the file or the environment (releases aside).
    assert set(settings.ENVIRONMENT) == {f.name for f in dataclasses.fields(settings.Settings) if f.metadata.get("doc")}


def test_the_reference_names_every_command_and_option():
    text = reference.render()
    for command in ("validate", "wheelhouse build", "wheelhouse fetch", "render", "build", "lint", "repo init",
                    "repo publish", "repo promote", "repo rollback", "smoke", "pipeline", "lock"):
        assert f"### `venvdeb {command}`" in text
    assert "| `--no-piuparts` |" in text and "| `--constraint` CONSTRAINT |" in text
    assert "| `--cache-dir` CACHE_DIR | `\"~/.cache/venvdeb\"` |" in text  # no path of this machine
    assert "| `beside` | list of strings |" in text and "| `reason` | string | yes |" in text
