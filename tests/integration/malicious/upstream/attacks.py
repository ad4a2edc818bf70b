"""What a malicious upstream tries wherever its code runs: shipped inside both of its projects
(evil-build's setup.py and evil-pth's .pth file), as ``<package>/attacks.py``.

Inert unless ``targets.json`` lies beside it: the fixture bakes that file into the sdist and the
wheel it makes for one test (tests/integration/malicious/__init__.py), with that test's paths and
port. This copy in venvdeb's tests has none, so importing it does nothing.

Each attack is tried once per run, never raises, and never stops the code that called it: the
build or the command carries on. What each said is its mark, written where the code runs (the
marks directory in /tmp, and ``proofs``: places the caller knows end up somewhere the test can
read) and on stderr (a build's log).
"""

import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ATTACKS = ("write_host_file", "read_key", "plant_in_cache", "reach_repository")
# Where venvdeb's egress proxy listens inside a chroot's network namespace: known to anyone who
# reads venvdeb, so tried whatever the variables say.
VENVDEB_PROXY = ("127.0.0.1", 3128)


def targets():
    try:
        with open(os.path.join(HERE, "targets.json")) as f:
            return json.load(f)
    except OSError:
        return None


def codename():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("VERSION_CODENAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "unknown"


def who():
    """Which run this is, from what its parent set: a maintainer script (dpkg sets
    DPKG_MAINTSCRIPT_NAME), a package's build (dpkg-buildpackage sets DEB_RULES_REQUIRES_ROOT),
    else a command run from the installed package."""
    if os.environ.get("DPKG_MAINTSCRIPT_NAME"):
        return "maintscript-" + os.environ["DPKG_MAINTSCRIPT_NAME"]
    if "DEB_RULES_REQUIRES_ROOT" in os.environ:
        return "service-build"
    return "run"


def write_host_file(t, label):
    os.makedirs(t["host_dir"], exist_ok=True)
    path = os.path.join(t["host_dir"], label)
    with open(path, "w") as f:
        f.write("written by upstream code\n")
    return "wrote " + path


def read_key(t, label):
    keys = os.path.join(t["gnupghome"], "private-keys-v1.d")
    names = sorted(n for n in os.listdir(keys) if n.endswith(".key"))  # raises where there is no such directory
    if not names:
        return "failed: no .key file in " + keys
    with open(os.path.join(keys, names[0]), "rb") as f:
        data = f.read()
    return "read %d bytes of %s" % (len(data), names[0])


def plant_in_cache(t, label):
    """A file among the wheels of venvdeb's cache, which the host packs into every wheelhouse."""
    os.makedirs(t["cache_plant_dir"], exist_ok=True)
    path = os.path.join(t["cache_plant_dir"], "evil-planted-%s-%s" % (t["token"], label))
    with open(path, "w") as f:
        f.write("planted by upstream code\n")
    return "planted " + path


def _ask(address, request):
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(request.encode())
        reply = b""
        while len(reply) < 4096:
            data = s.recv(4096)
            if not data:
                break
            reply += data
    return reply.decode("latin-1")


def reach_repository(t, label):
    """The repository's HTTP server on the host's 127.0.0.1: directly, then through venvdeb's
    egress proxy (and the one the variables name, if another). The server answers /evil/ with
    its own words, so a reply that has them came from it."""
    said = []
    path = "/evil/%s" % label
    try:
        reply = _ask(("127.0.0.1", t["repo_port"]), "GET %s/direct HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path)
        said.append("direct: " + ("reached" if t["server_says"] in reply else "answered: " + reply[:60]))
    except OSError as exc:
        said.append("direct: failed: %s" % type(exc).__name__)
    proxies = [VENVDEB_PROXY]
    named = os.environ.get("http_proxy", "").replace("http://", "").strip("/")
    if named and ":" in named:
        host, _, port = named.rpartition(":")
        if port.isdigit() and (host, int(port)) not in proxies:
            proxies.append((host, int(port)))
    for proxy in proxies:
        url = "http://127.0.0.1:%d%s/proxy" % (t["repo_port"], path)
        try:
            reply = _ask(proxy, "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n" % (url, t["repo_port"]))
            status = (reply.split("\r\n", 1)[0] or "no reply")[:40]
            said.append("proxy %s:%d: %s" % (proxy[0], proxy[1], "reached" if t["server_says"] in reply
                                              else "failed: " + status))
        except OSError as exc:
            said.append("proxy %s:%d: failed: %s" % (proxy[0], proxy[1], type(exc).__name__))
    return "; ".join(said)


def attempt(run, proofs=()):
    """Try every attack; leave the marks; return them (None when inert)."""
    t = targets()
    if t is None:
        return None
    label = "%s@%s" % (run, codename())
    marks = {"who": run, "where": codename(), "python": sys.version.split()[0], "uid": os.getuid()}
    for name in ATTACKS:
        try:
            marks[name] = globals()[name](t, label)
        except Exception as exc:  # noqa: BLE001 (an attempt never stops the code that made it)
            marks[name] = "failed: %s: %s" % (type(exc).__name__, exc)
        print("evil-upstream[%s]: %s: %s" % (label, name, marks[name]), file=sys.stderr)
    text = json.dumps(marks, indent=1, sort_keys=True) + "\n"
    for path in (os.path.join(t["marks_dir"], label + ".json"), *proofs):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        except OSError:
            pass
    return marks
