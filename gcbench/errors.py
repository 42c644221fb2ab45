"""User-facing errors.

Anything a user can cause by what they type or point us at (an unknown method, an impossible ratio, a
missing or corrupt data file, a malformed results file) raises :class:`GCBenchError`. The command line
prints its message on one line and exits with code 2; everything else is a bug and keeps its traceback.
"""


class GCBenchError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""
