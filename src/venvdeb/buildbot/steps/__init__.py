"""One BuildStep per venvdeb subcommand, in a module for where it runs.

- ``common``: what every step shares: the argv, the one reading of what the command prints into
  the typed result its step names (model/results.py), and the summary of a failure.
- ``worker``: worker steps (`VenvdebStep`) run in the build's directory on the worker.
- ``master``: master steps (`VenvdebMasterStep`) run on the master, for what must happen in one
  place: publication to the one repository, and what it keeps.
- ``gates``: the gates, on the master, out of the builder's reach: `Lint`, `Verify` (a
  wheelhouse's wheels), `Gates` (lint and smoke side by side, as `venvdeb pipeline` runs them), and
  `Rebuild` (the master builds the package again and compares the bytes: promotion's gate), and
  `Cloud` (a point's staged packages together on one controller: promotion's gate too).

master.cfg and the factories use the names below: ``from venvdeb.buildbot import steps;
steps.ServiceBuild``.
"""

from .gates import Cloud, Gates, Lint, Rebuild, Verify, WheelhouseRebuild, record_lint_counts
from .common import TOOL_FAILED, failed_result, parse, size_text, truthy
from .master import (AcceptUpload, MasterCommand, Promote, Publish, RecordBuild, RepoRefresh, ReserveVersion, Rollback,
                     VenvdebMasterStep)
from .worker import Plan, ServiceBuild, VenvdebStep, WheelhouseBuild, WheelhouseFetch

__all__ = [
    "TOOL_FAILED", "failed_result", "parse", "size_text", "truthy",
    "VenvdebStep", "WheelhouseBuild", "WheelhouseFetch", "ServiceBuild", "Plan",
    "MasterCommand", "VenvdebMasterStep", "AcceptUpload", "Publish", "ReserveVersion", "RecordBuild", "Promote",
    "Rollback", "RepoRefresh",
    "Cloud", "Gates", "Lint", "Rebuild", "Verify", "WheelhouseRebuild", "record_lint_counts",
]
