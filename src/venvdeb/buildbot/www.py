"""The web UI: waterfall, console and grid views; logins from the secrets file; authorization.

Anyone may read. Only the "admins" role may force, rebuild or stop builds (or any other control
action): AnyControlEndpointMatcher denies every control endpoint to everyone else.
"""

from __future__ import annotations

from buildbot.plugins import util

from .settings import Secrets, Settings

PLUGINS = {"waterfall_view": {}, "console_view": {}, "grid_view": {}}


def authz(secrets: Secrets) -> util.Authz:
    return util.Authz(
        allowRules=[
            util.ForceBuildEndpointMatcher(role="admins"),
            util.RebuildBuildEndpointMatcher(role="admins"),
            util.StopBuildEndpointMatcher(role="admins"),
            util.AnyControlEndpointMatcher(role="admins"),
        ],
        roleMatchers=[util.RolesFromUsername(roles=["admins"], usernames=list(secrets.admins))],
    )


def www(settings: Settings, secrets: Secrets) -> dict:
    config = {
        "port": f"tcp:{settings.www_port}:interface={settings.www_host}",
        "plugins": dict(PLUGINS),
        "authz": authz(secrets),
    }
    if secrets.users:
        config["auth"] = util.UserPasswordAuth(dict(secrets.users))
    return config
