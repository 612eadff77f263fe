"""The one exception type the toolkit raises for bad input.

Every message is a single line that says what is wrong and how to fix it. The command line prints
it as ``error: <message>`` and exits with status 2; notebooks and the dashboard show it as is.
"""


class ToolkitError(ValueError):
    """Bad input or state the user can fix (wrong name, missing data, unwritable folder...)."""
