"""User-facing errors and the exit codes of the command line.

Anything a user can cause by what they type or point us at (an unknown method, an impossible ratio, a
missing or corrupt data file, a malformed results file, a method option of the wrong type, a method that
cannot run on a dataset) raises :class:`GCBenchError`. The command line prints its message on one line and
exits with code 2; everything else is a bug and keeps its traceback (``GCBENCH_DEBUG=1`` also prints the
traceback of every failed row).
"""

#: everything asked for was done (``gcbench run``: and no row failed)
EXIT_OK = 0
#: ``gcbench leaderboard --check`` found a problem
EXIT_CHECK_FAILED = 1
#: bad input (a :class:`GCBenchError`): one line ``gcbench: error: ...``, nothing computed
EXIT_USAGE = 2
#: ``gcbench run`` finished, but some rows it computed have ``status=failed`` (listed on stderr and in
#: results.csv; a rerun of the same command retries only them)
EXIT_FAILED_ROWS = 3
#: interrupted (Ctrl-C); every finished row is kept and the same command resumes
EXIT_INTERRUPTED = 130
#: standard output was closed early (``gcbench list | head``); nothing more is printed
EXIT_BROKEN_PIPE = 141


class GCBenchError(Exception):
    """A problem with the user's input: printed as one line, exit code 2."""
