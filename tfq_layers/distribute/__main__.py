"""``python -m tfq_layers.distribute --workers N -- <module | script.py> [args...]``."""

import sys

from tfq_layers.distribute.launcher import main

if __name__ == "__main__":
    sys.exit(main())
