"""venvdeb: per-release wheelhouses and per-service dh-virtualenv packages."""

__version__ = "0.1.0"
