"""The cloud gate's model and its controller's files (issue 27): the project's own service files and
scenario, rendered as the gate writes them, and what the gate refuses before anything runs."""

from __future__ import annotations

import configparser
import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from venvdeb.errors import ModelError
from venvdeb.gates.cloud_config import Controller, Secrets, ordered
from venvdeb.model.cloud import CloudSpec, cloud_problems, load_scenario
from venvdeb.model.release import load_release

ROOT = Path(__file__).resolve().parents[2] / "packaging"


def services(*names):
    release = load_release(ROOT, "2026.2")
    return [release.service(n) for n in names] if names else list(release.services)


def controller(*names, secrets=None):
    chosen = services(*names)
    return Controller([s for s in chosen if s.system_user], secrets or Secrets(placeholders=True),
                      commands=[s.name for s in chosen if not s.system_user])


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_every_service_comes_up_after_what_it_needs_keystone_first():
    order = [s.name for s in controller().services]
    assert order[0] == "keystone"
    assert order.index("nova") > max(order.index(n) for n in ("placement", "glance", "neutron", "cinder"))
    assert "openstackclient" not in order  # a command: installed, not brought up


def test_each_api_in_the_catalog_checks_tokens_with_its_own_service_user():
    built = controller()
    for service in built.services:
        if not service.cloud.type or service.cloud.type == "identity":
            continue
        sections = {}
        for _, text in built.config(service):
            if "[keystone_authtoken]" in text:
                sections = ini(text)["keystone_authtoken"]
        assert sections["username"] == service.name, service.name
        assert sections["password"] == f"{service.name.upper()}_PASS"
        assert sections["www_authenticate_uri"] == "http://controller:5000"
        assert sections["memcached_servers"] == "controller:11211"


def test_nova_is_wired_to_the_services_the_cloud_has_and_only_those():
    whole = ini(dict(controller().files())["/etc/nova/nova.conf"])
    assert whole["DEFAULT"]["transport_url"] == "rabbit://openstack:RABBIT_PASS@controller:5672/"
    assert whole["DEFAULT"]["compute_driver"] == "fake.FakeDriverWithoutFakeNodes"
    assert whole["api_database"]["connection"] == "mysql+pymysql://nova:NOVA_DBPASS@controller/nova_api"
    assert whole["glance"]["api_servers"] == "http://controller:9292"
    assert whole["placement"]["username"] == "nova" and whole.has_section("neutron") and whole.has_section("cinder")
    alone = ini(dict(controller("keystone", "placement", "nova").files())["/etc/nova/nova.conf"])
    assert not any(alone.has_section(s) for s in ("glance", "neutron", "cinder"))


def test_the_plan_registers_every_api_but_keystone_and_skips_steps_the_cloud_cannot_run():
    built = controller("keystone", "placement", "openstackclient")
    plan = built.plan([step.as_dict() for step in load_scenario(ROOT)])
    assert [r["type"] for r in plan["registrations"]] == ["placement"]
    assert plan["databases"] == [{"name": "keystone", "user": "keystone", "password": "KEYSTONE_DBPASS"},
                                 {"name": "placement", "user": "placement", "password": "PLACEMENT_DBPASS"}]
    run = [s["name"] for s in plan["steps"] if not s["skip"]]
    assert run[0] == "a token, issued by keystone through openstack"
    assert any(s["name"].startswith("placement refuses") for s in plan["steps"] if not s["skip"])
    skipped = {s["name"]: s["skip"] for s in plan["steps"] if s["skip"]}
    assert skipped["a server booted to ACTIVE, with the fake driver"] == "the cloud has no glance, neutron, nova"
    assert plan["services"][0]["identity"] and plan["services"][0]["units"] == [{"name": "keystone-api.service",
                                                                                "port": 5000}]


def test_a_gate_makes_its_own_passwords_and_the_same_ones_throughout():
    secrets = Secrets()
    built = controller("keystone", "placement", secrets=secrets)
    plan = built.plan([])
    conf = ini(dict(built.files())["/etc/placement/placement.conf"])
    assert conf["keystone_authtoken"]["password"] == plan["registrations"][0]["password"] != "PLACEMENT_PASS"
    assert len(plan["registrations"][0]["password"]) == 32
    assert plan["keystone"]["admin_password"] in built.setup(built.services[0])[-1]


def test_an_api_in_the_catalog_without_keystone_authtoken_is_refused_naming_the_service():
    keystone, placement = services("keystone", "placement")
    config = tuple((name, text.replace("[keystone_authtoken]", "[nothing]")) for name, text in placement.cloud.config)
    broken = replace(placement, cloud=replace(placement.cloud, config=config))
    with pytest.raises(ModelError) as exc:
        Controller([keystone, broken], Secrets(placeholders=True)).files()
    assert "placement.toml" in str(exc.value) and "[keystone_authtoken]" in str(exc.value)


def test_a_service_that_declares_nothing_for_the_cloud_is_refused_naming_it():
    keystone, glance = services("keystone", "glance")
    with pytest.raises(ModelError) as exc:
        Controller([keystone, replace(glance, cloud=CloudSpec())])
    assert "glance.toml" in str(exc.value) and "declares no [cloud] table" in str(exc.value)


def test_a_cloud_without_keystone_is_refused():
    with pytest.raises(ModelError, match="type = \"identity\""):
        Controller(services("placement"))


def test_a_template_that_names_what_it_cannot_have_is_refused_naming_its_key():
    keystone, placement = services("keystone", "placement")
    bad = replace(placement, cloud=replace(placement.cloud, config=(("placement.conf", "{{ database('nova') }}"),)))
    with pytest.raises(ModelError) as exc:
        Controller([keystone, bad]).files()
    assert "key 'cloud.config.placement.conf'" in str(exc.value) and "database('nova')" in str(exc.value)


def test_services_waiting_for_each_other_are_refused():
    keystone, placement = services("keystone", "placement")
    loop = replace(keystone, cloud=replace(keystone.cloud, after=("placement",)))
    with pytest.raises(ModelError, match="wait for each other"):
        ordered([loop, placement])


@pytest.mark.parametrize("cloud, said", [
    ({"api": "nope", "type": "x"}, "key 'cloud.api': 'nope' is not one of the service's [[wsgi]] applications"),
    ({"type": "x"}, "a catalog entry needs both type and api"),
    ({"units": ["ghost"]}, "key 'cloud.units': 'ghost' is not one of the service's units"),
    ({"databases": ["Bad-Name"]}, "key 'cloud.databases': 'Bad-Name' is not a database name"),
    ({"colour": 1}, "key 'cloud.colour': unknown key"),
])
def test_bad_cloud_tables_are_named(cloud, said):
    problems = cloud_problems(cloud, [{"name": "svc-api"}], [{"name": "svc-daemon"}])
    assert any(said in p for p in problems), problems


@pytest.mark.parametrize("step, said", [
    ('name = "x"\nneeds = ["keystone"]\nrun = "true"\nrequest = { api = "a", path = "/" }\nstatus = 200',
     "give either run (a script) or request"),
    ('name = "x"\nneeds = ["keystone"]\nrequest = { api = "a", path = "/" }', "key 'steps[0].status'"),
    ('name = "x"\nneeds = []\nrun = "true"', "key 'steps[0].needs': must not be empty"),
    ('name = "x"\nneeds = ["keystone"]\nrun = "true"\nwhen = 1', "key 'steps[0].when': unknown key"),
])
def test_bad_scenario_steps_are_named(tmp_path, step, said):
    (tmp_path / "cloud.toml").write_text(f"[[steps]]\n{step}\n")
    with pytest.raises(ModelError) as exc:
        load_scenario(tmp_path)
    assert "cloud.toml" in str(exc.value) and said in str(exc.value)


def test_the_project_scenario_covers_the_issue_in_order():
    names = [s.name for s in load_scenario(ROOT)]
    order = ["a token", "an image", "a flavor", "a network", "a volume", "a server", "the volume attached", "horizon"]
    found = [next(i for i, n in enumerate(names) if n.startswith(prefix)) for prefix in order]
    assert found == sorted(found)


def test_the_upgrade_walk_takes_one_service_after_another_keystone_first_the_client_last():
    chosen = services()
    built = Controller([s for s in chosen if s.system_user], Secrets(placeholders=True),
                       commands=[s.name for s in chosen if not s.system_user])
    installed = {s.package: "1-deb12u1" for s in chosen}
    to = {s.package: "2-deb12u1" for s in chosen}
    walk = built.walk(installed, to, "/var/lib/archives", ("2025.2", "2026.1"),
                      [s for s in chosen if not s.system_user])
    order = [s["name"] for s in walk["services"]]
    assert order[0] == "keystone" and order[-1] == "openstackclient" and order.index("nova") > order.index("placement")
    nova = next(s for s in walk["services"] if s["name"] == "nova")
    assert (nova["from"], nova["to"], nova["package"]) == ("1-deb12u1", "2-deb12u1", "venv-nova")
    assert nova["upgrade"] == ["su -s /bin/sh -c 'nova-manage api_db sync' nova", "su -s /bin/sh -c 'nova-manage db sync' nova"]
    assert nova["online"] == ["su -s /bin/sh -c 'nova-manage db online_data_migrations' nova"]
    assert [u["name"] for u in nova["units"]] == ["nova-api.service", "nova-conductor.service", "nova-scheduler.service",
                                                 "nova-compute.service"]
    keystone = walk["services"][0]
    assert [c.split("'")[1] for c in keystone["upgrade"]] == ["keystone-manage db_sync --expand",
                                                             "keystone-manage db_sync --contract"]
    assert walk["installed"] == installed and (walk["from"], walk["to"]) == ("2025.2", "2026.1")


def test_every_step_that_makes_something_says_how_to_read_it_back():
    for step in load_scenario(ROOT):
        if step.run and any(word in step.name for word in ("image", "flavor", "network", "server booted",
                                                            "allocation", "attached")):
            assert step.verify and "$FIRST" in step.verify, step.name
            assert "$RUN" in step.run or "allocation" in step.name and "server-$RUN" in step.run, step.name


@pytest.mark.parametrize("argv, said", [
    (["cloud", "2025.2", "--upgrade-to", "2026.1", "--record"], "--record with --upgrade-to"),
    (["cloud", "2025.2", "keystone", "ghost", "--show-config"], "ghost"),
    (["cloud", "2025.2", "placement", "--show-config"], "type = \"identity\""),
    (["cloud", "2026.1", "--dist-upgrade", "trixie"], "give the distribution the controller starts on"),
    (["cloud", "2026.1", "--dist", "trixie", "--dist-upgrade", "bookworm"], "to the next release only"),
    (["cloud", "2026.1", "--dist", "bookworm", "--dist-upgrade", "forky"], "not a distribution of"),
    (["cloud", "2026.1", "--dist", "bookworm", "--dist-upgrade", "trixie", "--record"], "--dist-upgrade with --record"),
    (["cloud", "2026.1", "--only-if-changed", "--screenshot", "horizon.png"], "--only-if-changed with --screenshot"),
    (["cloud", "2025.2", "--upgrade-to", "2026.1", "--only-if-changed"], "--only-if-changed with --upgrade-to"),
])
def test_bad_cloud_commands_are_refused_before_anything_runs(tmp_path, capsys, monkeypatch, argv, said):
    from venvdeb.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["--packaging", str(ROOT), *argv, "--repo-dir", str(tmp_path / "repo")]) != 0
    assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_what_runs_in_the_controller_compiles_for_the_oldest_target_interpreter():
    """cloud_check.py and its neighbours are copied into the booted chroot, never imported here:
    bookworm's python3 (3.11, which runs this test) must compile them."""
    from venvdeb.gates import api_check, cloud, cloud_check, unit_check

    for path in [Path(m.__file__) for m in (api_check, unit_check, cloud_check)] + sorted(cloud.DOUBLES.glob("*.py")):
        compile(path.read_text(), str(path), "exec")  # a SyntaxError fails the test


def test_the_walk_of_the_operating_system_boots_twice_the_second_time_to_read_back_and_run_again(tmp_path):
    """bookworm to trixie at one release: no service-by-service walk in the first boot's plan; the
    second boot's plan expects every package at its trixie build, and the chroot may reach the
    trixie mirror and the point's trixie suite (and nothing else) for the upgrade in between."""
    from venvdeb.environment.images import Image
    from venvdeb.gates.cloud import Cloud, Walk
    from venvdeb.gates.smoke import AptSuite

    release = load_release(ROOT, "2026.1")
    bookworm, trixie = release.at("bookworm"), release.at("trixie")
    chosen = [release.service(n) for n in ("keystone", "placement")]
    versions = {"venv-keystone": "29.1.0-deb12u1", "venv-placement": "15.0.0-deb12u1"}
    after = {"venv-keystone": "29.1.0-deb13u1", "venv-placement": "15.0.0-deb13u1"}
    image = Image("bookworm", tmp_path / "bookworm.tar", sources=(
        "deb http://mirror.example:3142/debian bookworm main", "deb http://security.example/debian-security "
        "bookworm-security main"))
    walk = Walk(trixie, after, AptSuite("http://127.0.0.1:8080", trixie.staging_suite, b"keys"))
    assert walk.of_the_system(bookworm) and not Walk(bookworm, {}, walk.suite).of_the_system(bookworm)
    gate = Cloud(bookworm, chosen, versions, image, AptSuite("http://127.0.0.1:8080", bookworm.staging_suite, b"k"),
                 load_scenario(ROOT), walk=walk)

    assert "upgrade" not in gate.plan and "rebooted" not in gate.plan
    second = gate.after_the_system_walk()
    assert second["rebooted"] == {"distribution": "trixie", "installed": after}
    assert second["steps"] == gate.plan["steps"] and second["services"] == gate.plan["services"]
    assert gate.next_sources() == ["deb http://mirror.example:3142/debian trixie main",
                                   "deb http://security.example/debian-security trixie-security main"]
    assert gate.egress() == {("mirror.example", 3142), ("security.example", 80), ("127.0.0.1", 8080)}


def test_what_the_gate_puts_in_the_controller_has_one_digest_and_another_when_the_scenario_changes():
    from venvdeb.gates.cloud import inputs

    chosen, scenario = services("keystone", "placement"), load_scenario(ROOT)
    # Its secrets are made afresh for each gate: the digest is of everything else, the same each time.
    assert inputs(chosen, scenario) == inputs(services("keystone", "placement"), load_scenario(ROOT))
    assert inputs(chosen, scenario[:-1]) != inputs(chosen, scenario)
    assert inputs(services("keystone", "placement", "glance"), scenario) != inputs(chosen, scenario)


class Recorded:
    """The repository's gate records, at its boundary: package, version -> record."""

    def __init__(self, records: dict):
        self.records = records

    def gates(self, package: str, version: str) -> dict:
        return self.records.get((package, version), {})


def staged_files(versions: dict[str, str]) -> dict:
    """What staging holds of each package: that version, in a file of its own (its sha256)."""
    from venvdeb.pipeline import Staged

    return {p: Staged(v, hashlib.sha256(f"{p} {v}".encode()).hexdigest(), [])
            for p, v in versions.items()}


def recorded_cloud():
    """Two packages staged, and a passed cloud gate recorded for both their files in one run."""
    from venvdeb.model.results import Check, CloudResult

    found = staged_files({"venv-keystone": "30.0.0-deb12u1", "venv-placement": "16.0.0-deb12u1"})
    versions = {p: s.version for p, s in found.items()}
    run = CloudResult("2026.2", "bookworm", "bookworm-2026.2-staging", dict(versions),
                      checks=[Check("scenario: placement refuses a request without a token", True)],
                      finished="2026-12-07T19:00:00+00:00", inputs="digest")
    records = {(p, s.version): {"sha256": s.sha256, "cloud": run.as_dict()} for p, s in found.items()}
    return Recorded(records), found


def test_a_cloud_gate_passed_with_exactly_these_files_and_inputs_is_kept_with_its_checks():
    from venvdeb.pipeline import cloud_kept

    repo, found = recorded_cloud()
    kept = cloud_kept(repo, found, "digest")
    assert kept is not None and kept.passed and kept.versions == {p: s.version for p, s in found.items()}
    assert [c.name for c in kept.checks] == ["scenario: placement refuses a request without a token"]
    assert "passed at 2026-12-07T19:00:00+00:00 with exactly these 2 packages" in kept.kept


def test_a_cloud_gate_runs_again_for_another_file_version_set_inputs_or_a_failure():
    from venvdeb.pipeline import cloud_kept

    repo, found = recorded_cloud()
    assert cloud_kept(repo, found, "another digest") is None  # configuration, scenario or checks
    rebuilt = found["venv-placement"]._replace(sha256="f" * 64)  # another build of the same version
    assert cloud_kept(repo, {**found, "venv-placement": rebuilt}, "digest") is None

    newer = staged_files({"venv-placement": "16.0.0-deb12u2"})
    # a record of its own for that file, of a run that installed the version before
    repo.records[("venv-placement", "16.0.0-deb12u2")] = {
        **repo.records[("venv-placement", "16.0.0-deb12u1")], "sha256": newer["venv-placement"].sha256}
    assert cloud_kept(repo, {**found, **newer}, "digest") is None
    assert cloud_kept(repo, {"venv-keystone": found["venv-keystone"]}, "digest") is None  # not alone

    record = repo.records[("venv-keystone", found["venv-keystone"].version)]
    record["cloud"] = {**record["cloud"], "passed": False}
    assert cloud_kept(repo, found, "digest") is None
