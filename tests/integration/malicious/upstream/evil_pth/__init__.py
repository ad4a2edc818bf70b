"""evil-pth: imported by its evil_pth.pth file, that is by every interpreter whose site-packages
has it, as that interpreter starts: during the service's build (its build commands run the venv's
python), in smoke, and in any maintainer script that let site run. It tries every attack
(attacks.py) and leaves its marks in /tmp and beside itself (in a build: in the venv that becomes
the .deb, where the test reads evil_pth/marks-service-build.json)."""

import os

from . import attacks

_run = attacks.who()
attacks.attempt(_run, proofs=[os.path.join(attacks.HERE, "marks-%s.json" % _run)])
