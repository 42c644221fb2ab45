"""The package version, in a module of its own so that modules below the package's ``__init__`` (the runner
stamps it into every result row) can read it without importing the package's face."""

__version__ = "0.1.0"
