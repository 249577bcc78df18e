"""``python -m kdocs_viewer`` — the same as the ``kdocs-viewer`` command."""

import sys

from kdocs_viewer.app import main

sys.exit(main())
