"""A service's dh-virtualenv package: rendered from templates/ (render.py), built from the
installed wheelhouse alone (build.py, installed.py), on this host or with sbuild (sbuild.py);
git-sourced services' own wheels (git_source.py); the SBOM (sbom.py)."""
