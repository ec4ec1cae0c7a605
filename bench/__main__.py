"""``python -m bench``: the side-by-side latency benchmark (see bench/compare.py)."""

from bench.compare import main

raise SystemExit(main())
