"""Production settings with bench/bench_urls.py as the URL configuration (benchmarks only)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
