"""One BuildStep per venvdeb subcommand, in a module for where it runs.

- ``common``: what every step shares: the argv, the one reading of what the command prints into
  the typed result its step names (model/results.py), and the summary of a failure.
- ``worker``: worker steps (`VenvdebStep`) run in the build's directory on the worker.
- ``master``: master steps (`VenvdebMasterStep`) run on the master, for what must happen in one
  place: publication to the one repository, and what it keeps.
- ``both``: `Gates` runs a package's two gates side by side, as `venvdeb pipeline` does: lintian
  on the worker, smoke on the master, against the one repository.

master.cfg and the factories use the names below: ``from venvdeb.buildbot import steps;
steps.ServiceBuild``.
"""

from .both import Gates
from .common import TOOL_FAILED, failed_result, parse, size_text, truthy
from .master import (MasterCommand, Promote, Publish, RecordBuild, RecordGate, RepoRefresh, ReserveVersion, Rollback,
                     VenvdebMasterStep)
from .worker import Lint, Plan, ServiceBuild, VenvdebStep, WheelhouseBuild, WheelhouseFetch, record_lint_counts

__all__ = [
    "TOOL_FAILED", "failed_result", "parse", "size_text", "truthy",
    "VenvdebStep", "WheelhouseBuild", "WheelhouseFetch", "ServiceBuild", "Plan", "Lint", "record_lint_counts",
    "MasterCommand", "VenvdebMasterStep", "Publish", "ReserveVersion", "RecordBuild", "RecordGate", "Promote",
    "Rollback", "RepoRefresh",
    "Gates",
]
