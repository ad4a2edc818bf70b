"""The web UI: waterfall, console and grid views, the release page; logins from the secrets
file; authorization.

Anyone may read. Only the "admins" role may force, rebuild or stop builds (or any other control
action): AnyControlEndpointMatcher denies every control endpoint to everyone else.
"""

from __future__ import annotations

from buildbot.plugins import util
from twisted.internet.endpoints import quoteStringArgument

from ..repository import Repository
from .release_page import ReleasePage
from .secrets_file import SecretsFile, SecretsFileAuth
from .settings import Secrets, Settings
from .tls import ensure_certificate

PLUGINS = {"waterfall_view": {}, "console_view": {}, "grid_view": {}}
RELEASE_PAGE = "releases"  # /#/releases in the UI; the page itself at /plugins/wsgi_dashboards/releases/


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


def port(settings: Settings) -> str:
    """HTTPS (Buildbot then marks its session cookie Secure), or plain HTTP behind a proxy."""
    if not settings.www_tls:
        return f"tcp:{settings.www_port}:interface={settings.www_host}"
    cert, key = ensure_certificate(settings.path(settings.tls_dir), settings.www_host)
    return (f"ssl:{settings.www_port}:interface={settings.www_host}:privateKey={quoteStringArgument(str(key))}"
            f":certKey={quoteStringArgument(str(cert))}")


def harden_session_cookie() -> None:
    """Buildbot (4.3) sets its session cookie Secure over TLS, and has no setting for more: the
    session writes it HttpOnly too (no script on a page reads it) and SameSite=Strict (no other
    site's page makes the browser send it, so none can force a build in an admin's name)."""
    from buildbot.www import auth, service

    def update_session(session, request) -> None:
        name = auth.build_cookie_name(request.isSecure(), request.sitepath)
        request.addCookie(name, session.uid, path=b"/", secure=request.isSecure(), httpOnly=True, sameSite="strict")

    service.BuildbotSession.updateSession = update_session


def www(settings: Settings, secrets: Secrets, points: list, provider: SecretsFile) -> dict:
    harden_session_cookie()
    page = ReleasePage(points, Repository(settings.path(settings.repo_dir)))
    plugins = dict(PLUGINS, wsgi_dashboards=[{"name": RELEASE_PAGE, "caption": "Releases", "app": page,
                                              "order": 1, "icon": "list"}])
    config = {
        "port": port(settings),
        "plugins": plugins,
        "authz": authz(secrets),
    }
    if secrets.users:
        config["auth"] = SecretsFileAuth(provider)
    return config
