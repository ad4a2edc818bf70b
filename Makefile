# The entry points a person types. Everything runs on Debian 12 as root (or with sudo).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
RELEASE ?= 2025.2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian's own tools, and what the target interpreter needs to build sdists.
DEBIAN_PACKAGES := debhelper dh-virtualenv dpkg-dev devscripts lintian fakeroot build-essential \
	python3 python3-venv python3-dev pkg-config zstd git gnupg reprepro mmdebstrap sbuild uidmap \
	ca-certificates

.PHONY: setup system venv demo test test-unit bench bench-all checkconfig clean

setup: system venv

# apt-get install is idempotent and quick when nothing is missing; subuid/subgid for sbuild's unshare mode.
system:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null
	grep -qx 'root:100000:65536' /etc/subuid || echo 'root:100000:65536' | $(SUDO) tee -a /etc/subuid >/dev/null
	grep -qx 'root:100000:65536' /etc/subgid || echo 'root:100000:65536' | $(SUDO) tee -a /etc/subgid >/dev/null

# venvdeb itself runs on the distribution's interpreter, as the packages it builds do.
venv: $(BIN)/venvdeb
$(BIN)/venvdeb: pyproject.toml
	/usr/bin/python3 -m venv $(VENV)
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip install -q --upgrade pip
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip install -q -e '.[test]'
	touch $@

SERVICES ?= nova glance keystone

demo: setup
	$(BIN)/venvdeb wheelhouse build $(RELEASE) --install-build-deps
	for s in $(SERVICES); do $(BIN)/venvdeb build $(RELEASE) $$s --reason "make demo" || exit 1; done

test: setup
	$(BIN)/buildbot checkconfig master.cfg
	$(BIN)/pytest -q -ra

test-unit: venv
	$(BIN)/pytest -q -m 'not integration and not network'

bench: setup
	$(BIN)/python bench/wheelhouse_cache.py

bench-all: setup
	$(BIN)/python bench/wheelhouse_all.py

clean:
	rm -rf out var build .pytest_cache
