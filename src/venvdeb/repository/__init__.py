"""The signed reprepro repository: suites per release, signing, publication and promotion, its
HTTP server, and the client side a build worker uses to fetch a published wheelhouse."""

from .reprepro import KEYRING, Repository, Suite
from .serve import server, serving

__all__ = ["KEYRING", "Repository", "Suite", "server", "serving"]
