"""The `waypost` command: one thin module per command group.

`commands` holds the group and the content commands (check, build, serve);
`bundle`, `keys`, `root` and `i18n` hold theirs. None builds a Flask app unless it serves.
"""

from app.cli.commands import main

__all__ = ["main"]
