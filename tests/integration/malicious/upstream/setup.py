"""evil-build's setup.py: the build of its sdist (pip wheel, in venvdeb's wheelhouse stage) runs
this, and so every attack (attacks.py). The marks go into the package it builds as
evil_build/marks.json: the built wheel carries them into the wheelhouse and the service's .deb,
where the test reads them. Then the build carries on as any other."""

import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # setuptools.build_meta does not put the source tree on sys.path

from evil_build import attacks  # noqa: E402 (after the path it needs)

attacks.attempt("sdist-build", proofs=[os.path.join(HERE, "evil_build", "marks.json")])

setup(
    name="evil-build",
    version="1.0",
    packages=["evil_build"],
    package_data={"evil_build": ["*.json"]},
    entry_points={"console_scripts": ["evil-build = evil_build:main", "evil-marks = evil_build:report"]},
)
