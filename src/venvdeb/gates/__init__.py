"""The gates a package passes before it is published: lintian, and smoke in a clean chroot."""
