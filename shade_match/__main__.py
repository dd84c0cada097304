"""``python -m shade_match`` is the ``shade-match`` command."""

from .cli import main

raise SystemExit(main())
