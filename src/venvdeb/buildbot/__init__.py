"""Buildbot configuration for venvdeb: master.cfg stays thin and calls into here."""
