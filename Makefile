# The entry points a person types. Everything runs on Debian 12 as root (or with sudo).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
RELEASE ?= 2026.2
RELEASES ?= $(RELEASE)  # the whole matrix: make demo RELEASES="2025.2 2026.1 2026.2"
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian's own tools, and what the target interpreter needs to build sdists.
DEBIAN_PACKAGES := debhelper dh-virtualenv dpkg-dev devscripts lintian fakeroot build-essential \
	python3 python3-venv python3-dev pkg-config zstd git gnupg reprepro mmdebstrap sbuild uidmap \
	ca-certificates chromium chromium-driver sudo postgresql diffoscope-minimal systemd systemd-container

.PHONY: setup system venv lock reference test-fleet test-cloud demo master master-stop test test-unit bench bench-all bench-service bench-pipeline bench-buildbot bench-chroot bench-isolation bench-matrix bench-fleet bench-buildbot-cli bench-constraints-bump bench-cloud bench-gates bench-second-demo clean

setup: system venv

# apt-get install is idempotent and quick when nothing is missing; subuid/subgid: the user namespace of every chroot venvdeb makes, and sbuild's unshare mode.
system:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null
	grep -qx 'root:100000:65536' /etc/subuid || echo 'root:100000:65536' | $(SUDO) tee -a /etc/subuid >/dev/null
	grep -qx 'root:100000:65536' /etc/subgid || echo 'root:100000:65536' | $(SUDO) tee -a /etc/subgid >/dev/null

# venvdeb itself runs on the distribution's interpreter, as the packages it builds do.
venv: $(BIN)/venvdeb
# Every dependency, test ones included, from requirements.txt: pinned, with hashes (make lock).
# The lock is the whole closure, so nothing else is resolved (--no-deps); pip check proves it whole.
# venvdeb itself with -qq: setuptools cautions every editable install whose packages map directories
# outside src/ (templates/, wheelhouse-builder/); an error is still shown.
$(BIN)/venvdeb: pyproject.toml requirements.txt
	/usr/bin/python3 -m venv $(VENV)
	PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(BIN)/pip install -q --require-hashes --no-deps -r requirements.txt
	PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(BIN)/pip install -qq --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $@

# Refresh the lock: the newest versions pyproject.toml allows, for the target interpreter.
lock: venv
	PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(BIN)/pip-compile --quiet --upgrade --extra test --generate-hashes --allow-unsafe \
	  --strip-extras --no-emit-index-url --no-emit-find-links --output-file requirements.txt pyproject.toml
	cd src/venvdeb/environment && PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(CURDIR)/$(BIN)/pip-compile --quiet --upgrade \
	  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --output-file toolchain.txt toolchain.in
	cd tests/integration/build-lock && PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= $(CURDIR)/$(BIN)/pip-compile --quiet --upgrade \
	  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-options --pip-args="--only-binary :all:" \
	  --output-file build.txt build.in

SERVICES ?= nova glance keystone placement neutron cinder horizon openstackclient

# The main job on the default packaging: the newest release, 2026.2 (or each of RELEASES) at each of its
# distributions (bookworm and trixie), the wheelhouse, every service through build, lint and smoke, published to that
# point's signed staging suite; then what an operator does with it. A service whose closure and packaging are as
# they were at its last build, which staging holds with its gates passed, is left as it is (--only-if-changed): a
# second run builds only what changed.
demo: setup
	$(BIN)/venvdeb repo init --make-key
	set -e; for release in $(RELEASES); do \
	  $(BIN)/venvdeb pipeline $$release $(SERVICES) --install-build-deps --only-if-changed --reason "make demo"; done
	@echo
	@echo "== An operator uses a staging suite with these two files: =="
	@echo "-- /etc/apt/keyrings/venvdeb.gpg: a copy of $(CURDIR)/var/repo/venvdeb-archive-keyring.gpg"
	@echo "-- /etc/apt/sources.list.d/venvdeb.sources (with 'venvdeb repo serve' on port 8080), on trixie:"
	@$(BIN)/venvdeb repo sources $(RELEASE) --dist trixie
	@echo
	@echo "== apt install venv-nova, in a clean chroot of each distribution, from its signed staging suite: =="
	$(BIN)/venvdeb smoke $(RELEASE) nova --from-staging
	@echo
	@echo "== The cloud gate: every service of $(RELEASE) together on one controller of each distribution, and a user's scenario: =="
	$(BIN)/venvdeb cloud $(RELEASE) --record --only-if-changed

# A Buildbot master and one local worker on 127.0.0.1 (sqlite), and the repository's HTTP server the
# workers fetch the wheelhouse from. The first run prints the admin password once (kept in the
# secrets file under var/, which git ignores). Settings: docs/farm.md, and every one in docs/reference.md.
WORKERS ?= 1
master: setup
	$(BIN)/python -m venvdeb.buildbot.local start --workers $(WORKERS)

master-stop:
	$(BIN)/python -m venvdeb.buildbot.local stop --workers $(WORKERS)

# Every capability on its smallest real case; the durations show where the time goes.
test: setup
	$(BIN)/buildbot checkconfig master.cfg
	$(BIN)/pytest -q -ra -m 'not fleet' --durations=25

# The core fleet of 2025.2 itself (build, lint, functional smoke of the real services): what
# make demo also runs, as a test with named checks; and the operators' upgrade paths (a service
# to the next release, bookworm to trixie) and sbuild's clean-room builds. Long, and
# network-heavy: not in make test.
test-fleet: setup
	$(BIN)/pytest -q -ra -m fleet --durations=25

# The cloud gate on the newest release's points, the upgrade walks 2025.2 -> 2026.1 -> 2026.2 on
# bookworm, and 2026.1's controller from bookworm to trixie, from the staging suites (make demo
# RELEASES="2025.2 2026.1 2026.2" publishes them; a service missing there is named, with the
# command that builds it).
test-cloud: setup
	$(BIN)/venvdeb cloud $(RELEASE) --record
	$(BIN)/venvdeb cloud 2025.2 --dist bookworm --upgrade-to 2026.1
	$(BIN)/venvdeb cloud 2026.1 --dist bookworm --upgrade-to 2026.2
	$(BIN)/venvdeb cloud 2026.1 --dist bookworm --dist-upgrade trixie

# docs/reference.md, generated from the schemas, the argument parser and the farm's settings, and
# docs/cloud-controller.md, the cloud gate's configuration of the newest release (a unit test fails
# when a checked-in copy differs).
reference: venv
	$(BIN)/python -m venvdeb.reference > docs/reference.md
	$(BIN)/python -m venvdeb.reference --controller packaging $(RELEASE) > docs/cloud-controller.md

test-unit: venv
	$(BIN)/pytest -q -m 'not integration and not network'

bench: setup
	$(BIN)/python bench/wheelhouse_cache.py

bench-service: setup
	$(BIN)/python bench/service_build.py

bench-pipeline: setup
	$(BIN)/python bench/pipeline.py

bench-buildbot: setup
	$(BIN)/python bench/buildbot_workers.py

# A one-pin constraints bump through Buildbot: the time to the one service it touches in staging,
# and the builds it ran (1 wheelhouse + 1 service).
bench-constraints-bump: setup
	$(BIN)/python bench/constraints_bump.py

bench-chroot: setup
	$(BIN)/python bench/chroot_build.py

# The host's own distribution built in a chroot (this checkout) against on the host (BASELINE:
# the last commit whose builds ran there), side by side in one run.
BASELINE ?= e78f2c1
bench-isolation: setup
	$(BIN)/python bench/isolation.py $(BASELINE)

# The releases (default: the newest) at each distribution, cold cache then warm.
bench-matrix: setup
	$(BIN)/python bench/matrix.py $(RELEASES)

bench-buildbot-cli: setup
	$(BIN)/python bench/buildbot_vs_cli.py

bench-fleet: setup
	$(BIN)/python bench/fleet.py

# The cloud gate of the newest release and the upgrade walk 2025.2 -> 2026.1 (bookworm), from the
# staging suites, each against its target (10 and 20 minutes).
bench-cloud: setup
	$(BIN)/python bench/cloud_gate.py $(RELEASE) 2025.2 bookworm

bench-all: setup
	$(BIN)/python bench/wheelhouse_all.py

# One warm point's gates (the newest release, bookworm) with the code at GATES_BASELINE (before
# issue 28's changes to the gates) against this checkout, side by side: where each second goes.
GATES_BASELINE ?= 687ff1f
bench-gates: setup
	$(BIN)/python bench/gates_profile.py $(GATES_BASELINE) $(RELEASE) bookworm

# A warm machine's second make demo: this checkout's, and the code at SECOND_DEMO_BASELINE (before
# cloud --only-if-changed), side by side.
SECOND_DEMO_BASELINE ?= b92df3b
bench-second-demo: setup
	$(BIN)/python bench/second_demo.py $(SECOND_DEMO_BASELINE)

clean:
	rm -rf out var build .pytest_cache
