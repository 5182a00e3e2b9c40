"""The one error type for problems a user can fix (bad paths, malformed files, wrong options).

The CLI prints such an error as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class BertkitError(Exception):
    """A problem with the user's input, reported as one line (name the file, line or key)."""
