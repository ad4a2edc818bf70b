"""Build factories: the stages of a wheelhouse build and of a service build, one step each.

Workers build; the master publishes. A worker uploads its .deb to the master (FileUpload over
the authenticated worker connection) and a master step runs ``venvdeb repo publish``, so however
many workers there are, one process writes the repository. The version ledgers work the same
way: the master holds them, a build downloads its package's ledger first and uploads it back
after publishing, and a master lock per package keeps two builds of one package apart; so a
package's version grows across workers instead of two workers both building "-1".
"""

from __future__ import annotations

from buildbot.plugins import steps, util

from ..model.ledger import ledger_file
from ..repository.reprepro import KEYRING
from . import steps as venvdeb_steps
from .settings import Settings

WORKER_STATE = "var/state"  # relative to the build directory on the worker
WORKER_OUT = "out"
LINT_RESULT = "lint.json"  # written by the worker's lint step, recorded by the master


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
        self.packaging = str(settings.path(settings.packaging))
        self.master_args = ["--repo-dir", str(settings.path(settings.repo_dir)),
                            "--gnupghome", str(settings.path(settings.gnupghome))]
        self.worker_dirs = ["--out-dir", WORKER_OUT, "--state-dir", WORKER_STATE]

    @staticmethod
    def point(release) -> list[str]:
        """The arguments that pin a command to the builder's distribution."""
        return ["--dist", release.distribution]

    def worker_step(self, cls, **kwargs):
        return cls(venvdeb=list(self.settings.venvdeb), packaging=self.packaging, **kwargs)

    def master_step(self, cls, extra=(), **kwargs):
        return cls(venvdeb=list(self.settings.venvdeb), packaging=self.packaging,
                   extra_args=list(extra) + self.master_args, **kwargs)

    def ledger_down(self, release, package: str):
        master_copy = self.settings.path(self.settings.state_dir) / ledger_name(release, package)
        return steps.FileDownload(
            name="ledger-from-master", mastersrc=str(master_copy),
            workerdest=f"{WORKER_STATE}/{ledger_name(release, package)}",
            # The first build of a package has no ledger yet: nothing to download.
            doStepIf=lambda step: master_copy.is_file(),
            haltOnFailure=True)

    def ledger_up(self, release, package: str, **kwargs):
        master_copy = self.settings.path(self.settings.state_dir) / ledger_name(release, package)
        return steps.FileUpload(name="ledger-to-master", workersrc=f"{WORKER_STATE}/{ledger_name(release, package)}",
                                masterdest=str(master_copy), mode=0o644, haltOnFailure=True, **kwargs)

    def upload_dest(self):
        return util.Interpolate(str(self.settings.path(self.settings.upload_dir))
                                + "/%(prop:buildername)s/%(prop:buildnumber)s/%(prop:deb_file)s")

    def upload(self, **kwargs):
        return steps.FileUpload(name="upload-deb", workersrc=util.Property("deb"), masterdest=self.upload_dest(),
                                mode=0o644, haltOnFailure=True, **kwargs)

    def lint_result_dest(self):
        return util.Interpolate(str(self.settings.path(self.settings.upload_dir))
                                + "/%(prop:buildername)s/%(prop:buildnumber)s/lint.json")

    def record_lint(self, **kwargs):
        """The worker's lintian result, kept on the master for `repo promote`."""
        return [steps.FileUpload(name="upload-lint-result", workersrc=LINT_RESULT, masterdest=self.lint_result_dest(),
                                 mode=0o644, haltOnFailure=True, **kwargs),
                self.master_step(venvdeb_steps.RecordGate, deb=self.upload_dest(), gate="lint",
                                 result=self.lint_result_dest(), **kwargs)]

    def publish(self, release, **kwargs):
        return self.master_step(venvdeb_steps.Publish, suite=release.staging_suite, deb=self.upload_dest(), **kwargs)


def wheelhouse_factory(settings: Settings, release, trigger: str) -> util.BuildFactory:
    s = Stages(settings)
    f = util.BuildFactory()
    f.addStep(s.ledger_down(release, release.wheelhouse_package))
    f.addStep(s.worker_step(venvdeb_steps.WheelhouseBuild, release=release.name,
                              extra_args=s.worker_dirs + s.point(release)))
    f.addStep(s.worker_step(venvdeb_steps.Lint, deb=util.Property("deb"), fail_on=list(release.lint_fail_on)))
    f.addStep(s.upload())
    f.addStep(s.publish(release))
    f.addStep(s.ledger_up(release, release.wheelhouse_package))
    # Every service of the release is rebuilt against a new wheelhouse when the build was asked
    # to (a constraints change, the nightly, or the force form's checkbox).
    f.addStep(steps.Trigger(
        name="rebuild-services", schedulerNames=[trigger], waitForFinish=False,
        doStepIf=lambda step: venvdeb_steps.truthy(step.getProperty("trigger_services")),
        # Each service builds only if its closure or its packaging changed; the others show as
        # skipped, with the reason.
        set_properties={"only_if_changed": True, "reason": util.Interpolate(
            "Rebuilt against %(prop:wheelhouse_package)s %(prop:wheelhouse_version)s (%(kw:why)s)",
            why=build_reason)}))
    return f


def service_factory(settings: Settings, release, service) -> util.BuildFactory:
    s = Stages(settings)
    f = util.BuildFactory()
    # The keyring comes from the master over the worker connection: the trust anchor for the
    # wheelhouse fetched over plain HTTP.
    f.addStep(steps.FileDownload(name="repository-keyring", mastersrc=str(settings.path(settings.repo_dir) / KEYRING),
                                 workerdest=KEYRING, haltOnFailure=True))
    f.addStep(s.worker_step(venvdeb_steps.WheelhouseFetch, release=release.name, repo_url=settings.repo_url,
                            keyring=KEYRING, extra_args=["--out-dir", WORKER_OUT] + s.point(release)))
    f.addStep(s.ledger_down(release, service.package))
    f.addStep(s.worker_step(venvdeb_steps.ServiceBuild, release=release.name, service=service.name,
                            reason=build_reason, wheelhouse_deb=util.Property("wheelhouse_deb"),
                            only_if_changed=util.Property("only_if_changed", default=False),
                            extra_args=s.worker_dirs + s.point(release)))
    built = {"doStepIf": _built, "hideStepIf": lambda results, step: not _built(step)}
    if settings.smoke:
        # The package goes to the master first: smoke runs there, beside lintian on the worker.
        f.addStep(s.upload(**built))
        f.addStep(s.worker_step(
            venvdeb_steps.Gates, release=release.name, service=service.name, deb=util.Property("deb"),
            master_deb=s.upload_dest(), fail_on=list(release.lint_fail_on), lint_args=["--output", LINT_RESULT],
            smoke_args=["--cache-dir", str(settings.path(settings.cache_dir)), "--record", *s.point(release),
                        *s.master_args, *([] if settings.piuparts else ["--no-piuparts"])], **built))
    else:
        f.addStep(s.worker_step(venvdeb_steps.Lint, deb=util.Property("deb"), fail_on=list(release.lint_fail_on),
                                extra_args=["--output", LINT_RESULT], **built))
        f.addStep(s.upload(**built))
    f.addSteps(s.record_lint(**built))
    f.addStep(s.publish(release, **built))
    f.addStep(s.ledger_up(release, service.package, **built))
    return f


def _built(step) -> bool:
    """The build step built something (not skipped: nothing changed)."""
    return not step.getProperty("skipped")


def promote_factory(settings: Settings, release) -> util.BuildFactory:
    """Staging to production, from the force form's package and version: on the master."""
    f = util.BuildFactory()
    f.addStep(Stages(settings).master_step(venvdeb_steps.Promote, extra=Stages.point(release), release=release.name,
                                           package=util.Property("package"), version=util.Property("version")))
    return f


def rollback_factory(settings: Settings, release) -> util.BuildFactory:
    """An earlier production version is production's again: on the master."""
    f = util.BuildFactory()
    f.addStep(Stages(settings).master_step(venvdeb_steps.Rollback, suite=release.production_suite,
                                           package=util.Property("package"), version=util.Property("version")))
    return f


def refresh_factory(settings: Settings) -> util.BuildFactory:
    """Every suite of the repository signed again with a new Valid-Until: on the master."""
    f = util.BuildFactory()
    f.addStep(Stages(settings).master_step(venvdeb_steps.RepoRefresh))
    return f


def package_lock(release, package: str):
    """One build of a package at a time, per release and distribution: its ledger is read, then
    written back."""
    return util.MasterLock(f"package-{release.name}-{release.distribution}-{package}")
