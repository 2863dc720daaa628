"""Golden tests: ``analyze --json`` of fixed inputs pinned (see :mod:`tests.golden.golden`)."""
