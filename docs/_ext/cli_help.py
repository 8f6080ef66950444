"""Sphinx directive that shows the ``--help`` text of a command at build time.

``.. cli-help:: run`` inserts the output of ``python -m sklearn_2dbm run
--help`` as a literal block, so the command-line reference cannot drift from
the code.
"""

import os
import subprocess
import sys

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class CLIHelpDirective(SphinxDirective):
    """Insert the help text of ``sklearn-2dbm [command]``."""

    optional_arguments = 1
    has_content = False

    def run(self):
        command = [sys.executable, "-m", "sklearn_2dbm", *self.arguments, "--help"]
        env = {**os.environ, "COLUMNS": "88"}
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, check=False
        )
        if result.returncode != 0:
            message = (
                f"`{' '.join(command[2:])}` failed with exit status "
                f"{result.returncode}: {result.stderr.strip()}"
            )
            return [self.state.document.reporter.warning(message, line=self.lineno)]
        text = result.stdout.rstrip().replace(
            "usage: __main__.py", "usage: sklearn-2dbm"
        )
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("cli-help", CLIHelpDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
