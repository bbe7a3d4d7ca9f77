"""The `tipline` command: set up, run and manage an instance from the shell.

`main` (in `main.py`) is the root group; every command group is a module of this package, registered with
one `main.add_command(...)` line at the bottom of `main.py`. What the commands share (the instance of the
environment, the actor, `--json` printing, failing with a reason) is in `common.py`; a group imports it from
there, never from this package or from `main`, so that no import goes in a circle.
"""

from tipline.cli.common import Failure, cli_actor, emit, handles_errors, json_option, open_instance
from tipline.cli.main import main

__all__ = ["Failure", "cli_actor", "emit", "handles_errors", "json_option", "main", "open_instance"]
