"""Build factories: the stages of a wheelhouse build and of a service build, one step each.

Workers build; the master gates and publishes. A worker uploads its .deb to the master (FileUpload
over the authenticated worker connection); the master runs the gates on that upload itself (lint,
smoke, a wheelhouse's verify: steps/gates.py), each recorded for its bytes, and ``venvdeb repo
publish``, which requires them, so however many workers there are, one process writes the
repository and no worker's word decides what is signed. Versions are the master's too: a
service build's worker says which upstream version it builds (``venvdeb build --plan``), the master
takes the next version of it above what the repository has published and what is in flight
(``venvdeb repo reserve-version``), and the worker builds that; its changelog entry joins the
master's ledger after publishing, and the master then builds that version again itself and
compares the bytes (``venvdeb rebuild``; a wheelhouse: ``venvdeb wheelhouse rebuild``, every sdist
built afresh): promotion requires that they matched. Two builds of one package, on two workers at once, so build two
versions. (The ledger a build downloads first is the changelog's history.) A wheelhouse's
version follows its content, so its builds take a master lock per wheelhouse instead; the master
records its entry as the version it accepted in the upload.
"""

from __future__ import annotations

from pathlib import Path

from buildbot.plugins import steps, util

from ..model.cloud import runs_a_cloud
from ..model.ledger import ledger_file
from ..repository.reprepro import KEYRING
from . import schedulers
from . import steps as venvdeb_steps
from .checkout import BUNDLE, MasterCheckout, unbundle, worker_root
from .settings import Settings, packaging_source

WORKER_STATE = "var/state"  # relative to the build directory on the worker
WORKER_OUT = "out"
MB = 1024 * 1024


@util.renderer
def build_reason(props) -> str:
    """Why this build happens, for debian/changelog: the forced reason, else where it came from."""
    reason = props.getProperty("reason")
    if reason:
        return str(reason)
    scheduler = props.getProperty("scheduler") or "Buildbot"
    revision = props.getProperty("revision")
    where = props.getProperty("repository") or ""
    branch = props.getProperty("branch") or ""
    if revision:
        return f"Automatic build ({scheduler}): {where} {branch} at {str(revision)[:12]}".replace("  ", " ")
    return f"Automatic build ({scheduler})"


def ledger_name(release, package: str) -> str:
    return ledger_file(release.name, release.distribution, package)


class Stages:
    """The steps common to both factories, bound to the master's settings."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.source = packaging_source(settings)
        if self.source:
            # Each build's own checkouts: the worker's, and the master's own (never a worker's copy).
            self.packaging = worker_root(self.source)
            self.master_checkout = self.build_file("packaging-src")
            self.master_packaging = (self.master_checkout if self.source.subdir == "."
                                     else self.build_file(f"packaging-src/{self.source.subdir}"))
        else:
            self.packaging = self.master_packaging = str(settings.path(settings.packaging))
        self.master_args = ["--repo-dir", str(settings.path(settings.repo_dir)),
                            "--gnupghome", str(settings.path(settings.gnupghome))]
        self.worker_dirs = ["--out-dir", WORKER_OUT, "--state-dir", WORKER_STATE]
        self.master_state = ["--state-dir", str(settings.path(settings.state_dir))]

    @staticmethod
    def point(release) -> list[str]:
        """The arguments that pin a command to the builder's distribution."""
        return ["--dist", release.distribution]

    def build_file(self, name: str):
        """A file of this build's on the master, beside the .deb the worker uploads."""
        return util.Interpolate(str(self.settings.path(self.settings.upload_dir))
                                + f"/%(prop:buildername)s/%(prop:buildnumber)s/{name}")

    def checkout(self) -> list:
        """The packaging at the build's revision: the master's own checkout (for its steps: smoke,
        publish, rebuild), then the worker's, of the commit the master chose, which the master
        sends it over the worker connection. The master reads nothing of the worker's, and nothing
        of its long-lived checkout, which only says which builders exist."""
        if not self.source:
            return []
        bundle = self.build_file(BUNDLE)
        return [MasterCheckout(source=self.source, mirrors=self.settings.path(self.settings.packaging_mirrors),
                               dest=self.master_checkout, bundle=bundle),
                steps.FileDownload(name="packaging-from-master", mastersrc=bundle, workerdest=BUNDLE,
                                   haltOnFailure=True),
                unbundle(self.source)]

    def worker_step(self, cls, **kwargs):
        return cls(venvdeb=list(self.settings.venvdeb), packaging=self.packaging, **kwargs)

    def builds(self, cls, **kwargs):
        """A step that makes a package: its changelog names the packaging commit checked out."""
        commit = util.Property("packaging_commit", default=None) if self.source else None
        return self.worker_step(cls, packaging_commit=commit, **kwargs)

    def master_step(self, cls, extra=(), packaging=None, **kwargs):
        return cls(venvdeb=list(self.settings.venvdeb), packaging=packaging or self.master_packaging,
                   extra_args=list(extra) + self.master_args, **kwargs)

    def ledger_down(self, release, package: str):
        master_copy = self.settings.path(self.settings.state_dir) / ledger_name(release, package)
        return steps.FileDownload(
            name="ledger-from-master", mastersrc=str(master_copy),
            workerdest=f"{WORKER_STATE}/{ledger_name(release, package)}",
            # The first build of a package has no ledger yet: nothing to download.
            doStepIf=lambda step: master_copy.is_file(),
            haltOnFailure=True)

    def record_build(self, release, package: str, version, **kwargs) -> list:
        """The worker's ledger entry of this build (of ``version``, the master's own fact) joins the
        master's ledger: that entry alone, checked, never the worker's whole ledger (builds of the
        package on other workers add theirs meanwhile, and no worker rewrites the history)."""
        mine = self.build_file("ledger.json")
        return [steps.FileUpload(name="ledger-to-master", workersrc=f"{WORKER_STATE}/{ledger_name(release, package)}",
                                 masterdest=mine, maxsize=MB, mode=0o644, haltOnFailure=True, **kwargs),
                self.master_step(venvdeb_steps.RecordBuild, extra=self.point(release) + self.master_state,
                                 release=release.name, package=package, version=version, ledger=mine, **kwargs)]

    def rebuild(self, release, step, **kwargs):
        """The master builds the recorded version again, from its own checkout, cache and chroot,
        and compares the bytes with the upload: promotion's gate."""
        return self.master_step(step, extra=self.master_state + ["--cache-dir", str(self.settings.path(
                                    self.settings.cache_dir))],
                                release=release.name, deb=self.upload_dest(), out_dir=self.build_file("rebuild"),
                                **kwargs)

    def upload_dest(self):
        # A name of the master's: the worker's file name is the worker's to choose.
        return self.build_file("upload.deb")

    def upload(self, **kwargs):
        # maxsize is the master's: its writer stops there, whatever the worker sends (publish then
        # refuses what is left, which is not a whole package).
        return steps.FileUpload(name="upload-deb", workersrc=util.Property("deb"), masterdest=self.upload_dest(),
                                maxsize=self.settings.max_upload_mb * MB, mode=0o644, haltOnFailure=True, **kwargs)

    def remove_uploads(self):
        """What the worker uploaded for this build goes once the build ends, published or refused."""
        # Where the master holds something of this build (its own fact, not a property a worker
        # could set), but in a build skipped for nothing changed: it uploaded nothing, and a step
        # that succeeds would make it a success again (the master's packaging checkout then stays).
        def uploaded(step):
            if step.build.results == util.SKIPPED:
                return False
            rendered = step.build.getProperties().render(self.build_file(""))
            return rendered.addCallback(lambda path: Path(path).is_dir())

        return steps.MasterShellCommand(name="remove-uploads", command=["rm", "-rf", self.build_file("")],
                                        alwaysRun=True, flunkOnFailure=False, warnOnFailure=True, doStepIf=uploaded,
                                        hideStepIf=lambda results, step: results in (util.SUCCESS, util.SKIPPED))

    def upload_buildinfo(self, **kwargs):
        """dpkg's record of the build, beside the .deb the worker built: published beside the
        package once the upload is accepted (publish checks that it records the upload's bytes)."""
        return steps.FileUpload(name="upload-buildinfo",
                                workersrc=util.Transform(buildinfo_beside, util.Property("deb")),
                                masterdest=self.build_file("upload.buildinfo"), maxsize=MB, mode=0o644,
                                haltOnFailure=True, **kwargs)

    def accept(self, package: str, version=None, **kwargs):
        """The upload is ``package`` (at ``version``), whole and no larger than allowed, or the
        build stops here: no gate runs on it, nothing is recorded for it."""
        return self.master_step(venvdeb_steps.AcceptUpload, deb=self.upload_dest(), package=package, version=version,
                                max_size=str(self.settings.max_upload_mb * MB), **kwargs)

    def lint(self, release, **kwargs):
        """lintian on the upload, on the master, recorded for its bytes."""
        return self.master_step(venvdeb_steps.Lint, deb=self.upload_dest(), fail_on=list(release.lint_fail_on),
                                **kwargs)

    def publish(self, release, package: str, version=None, gates=None, **kwargs):
        """The upload into staging, if it is ``package`` (at the ``version`` the master reserved),
        and its gates (``gates``, else its kind's: repository/gates.py) passed for its bytes."""
        return self.master_step(venvdeb_steps.Publish, suite=release.staging_suite, deb=self.upload_dest(),
                                package=package, version=version, max_size=str(self.settings.max_upload_mb * MB),
                                gates=gates, **kwargs)


def buildinfo_beside(deb) -> str | None:
    """Where the worker's build keeps the .buildinfo of its .deb (deb.buildinfo_of); none in a
    build that built nothing (the step is skipped then, but rendered first)."""
    return str(Path(deb).with_suffix(".buildinfo")) if deb else None


def wheelhouse_factory(settings: Settings, release, trigger: str) -> util.BuildFactory:
    s = Stages(settings)
    f = util.BuildFactory()
    f.addSteps(s.checkout())
    f.addStep(s.ledger_down(release, release.wheelhouse_package))
    f.addStep(s.builds(venvdeb_steps.WheelhouseBuild, release=release.name,
                       extra_args=s.worker_dirs + s.point(release)))
    f.addStep(s.upload())
    f.addStep(s.accept(release.wheelhouse_package))
    f.addStep(s.upload_buildinfo())
    # The gates on the upload, on the master; publish requires both, for its bytes.
    f.addStep(s.lint(release))
    f.addStep(s.master_step(venvdeb_steps.Verify, release=release.name, deb=s.upload_dest()))
    f.addStep(s.publish(release, release.wheelhouse_package))
    f.addSteps(s.record_build(release, release.wheelhouse_package, util.Property("accepted_version")))
    f.addStep(s.rebuild(release, venvdeb_steps.WheelhouseRebuild))
    # Every service of the release is rebuilt against a new wheelhouse when the build was asked
    # to (a constraints change, the nightly, or the force form's checkbox).
    f.addStep(steps.Trigger(
        name="rebuild-services", schedulerNames=[trigger], waitForFinish=False,
        doStepIf=lambda step: venvdeb_steps.truthy(step.getProperty("trigger_services")),
        # Each service builds only if its closure or its packaging changed; the others show as
        # skipped, with the reason.
        # ... and from the packaging commit this build read.
        set_properties={"only_if_changed": True, "packaging_revision": util.Property("packaging_commit", default=None),
                        "reason": util.Interpolate(
            "Rebuilt against %(prop:wheelhouse_package)s %(prop:wheelhouse_version)s (%(kw:why)s)",
            why=build_reason)}))
    f.addStep(s.remove_uploads())
    return f


def service_factory(settings: Settings, release, service) -> util.BuildFactory:
    s = Stages(settings)
    f = util.BuildFactory()
    f.addSteps(s.checkout())
    # The keyring comes from the master over the worker connection: the trust anchor for the
    # wheelhouse fetched over plain HTTP.
    f.addStep(steps.FileDownload(name="repository-keyring", mastersrc=str(settings.path(settings.repo_dir) / KEYRING),
                                 workerdest=KEYRING, haltOnFailure=True))
    f.addStep(s.worker_step(venvdeb_steps.WheelhouseFetch, release=release.name, repo_url=settings.repo_url,
                            keyring=KEYRING, extra_args=["--out-dir", WORKER_OUT] + s.point(release)))
    f.addStep(s.ledger_down(release, service.package))
    build = dict(release=release.name, service=service.name, reason=build_reason,
                 wheelhouse_deb=util.Property("wheelhouse_deb"),
                 only_if_changed=util.Property("only_if_changed", default=False),
                 extra_args=s.worker_dirs + s.point(release))
    # The worker says which upstream version it builds (or that nothing changed); the master
    # chooses the version; the worker builds it.
    f.addStep(s.worker_step(venvdeb_steps.Plan, **build))
    built = {"doStepIf": _built, "hideStepIf": lambda results, step: not _built(step)}
    f.addStep(s.master_step(venvdeb_steps.ReserveVersion, extra=s.point(release) + s.master_state, release=release.name,
                            package=service.package, upstream=util.Property("upstream"), **built))
    f.addStep(s.builds(venvdeb_steps.ServiceBuild, version=util.Property("version"), **build, **built))
    # The package goes to the master, which gates it itself (lint and smoke side by side), from
    # its own checkout of the packaging; publish requires both, for the upload's bytes.
    f.addStep(s.upload(**built))
    f.addStep(s.accept(service.package, version=util.Property("reserved_version"), **built))
    f.addStep(s.upload_buildinfo(**built))
    if settings.smoke:
        f.addStep(venvdeb_steps.Gates(
            venvdeb=list(settings.venvdeb), packaging=s.master_packaging, release=release.name,
            service=service.name, deb=s.upload_dest(), fail_on=list(release.lint_fail_on), lint_args=s.master_args,
            smoke_args=["--cache-dir", str(settings.path(settings.cache_dir)), *s.point(release), *s.master_args,
                        *([] if settings.piuparts else ["--no-piuparts"])], **built))
    else:
        f.addStep(s.lint(release, **built))
    # A farm that runs no smoke publishes to staging after lint alone (promotion still needs smoke).
    f.addStep(s.publish(release, service.package, version=util.Property("reserved_version"),
                        gates=None if settings.smoke else ["lint"], **built))
    f.addSteps(s.record_build(release, service.package, util.Property("reserved_version"), **built))
    if runs_a_cloud(release.services):  # a new package in staging: the point runs together again
        f.addStep(steps.Trigger(name="cloud-gate", schedulerNames=[schedulers.cloud_trigger(release)],
                                waitForFinish=False, **built))
    f.addStep(s.rebuild(release, venvdeb_steps.Rebuild, service=service.name, **built))
    f.addStep(s.remove_uploads())
    return f


def _built(step) -> bool:
    """The build step built something (not skipped: nothing changed)."""
    return not step.getProperty("skipped")


def cloud_factory(settings: Settings, release) -> util.BuildFactory:
    """The cloud gate of the point, from its staging suite: on the master."""
    s = Stages(settings)
    f = util.BuildFactory()
    f.addStep(s.master_step(venvdeb_steps.Cloud, extra=["--cache-dir", str(settings.path(settings.cache_dir)),
                                                        *Stages.point(release)],
                            packaging=str(settings.path(settings.packaging)), release=release.name))
    return f


def promote_factory(settings: Settings, release) -> util.BuildFactory:
    """Staging to production, from the force form's package and version: on the master."""
    f = util.BuildFactory()
    f.addStep(Stages(settings).master_step(venvdeb_steps.Promote, extra=Stages.point(release), release=release.name,
                                           packaging=str(settings.path(settings.packaging)),
                                           package=util.Property("package"), version=util.Property("version")))
    return f


def rollback_factory(settings: Settings, release) -> util.BuildFactory:
    """An earlier production version is production's again: on the master."""
    f = util.BuildFactory()
    f.addStep(Stages(settings).master_step(venvdeb_steps.Rollback, suite=release.production_suite,
                                           packaging=str(settings.path(settings.packaging)),
                                           package=util.Property("package"), version=util.Property("version")))
    return f


def refresh_factory(settings: Settings) -> util.BuildFactory:
    """Every suite of the repository signed again with a new Valid-Until: on the master."""
    f = util.BuildFactory()
    f.addStep(Stages(settings).master_step(venvdeb_steps.RepoRefresh, packaging=str(settings.path(settings.packaging))))
    return f


def package_lock(release, package: str):
    """One build of a package at a time, per release and distribution: its ledger is read, then
    written back."""
    return util.MasterLock(f"package-{release.name}-{release.distribution}-{package}")
