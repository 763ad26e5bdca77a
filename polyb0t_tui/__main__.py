"""`python -m polyb0t_tui` is the `polyb0t` command."""

import sys

from polyb0t_tui.cli import main

sys.exit(main())
