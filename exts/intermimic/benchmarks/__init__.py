"""Every benchmark and profiler, one module each; ``source/benchmark.py`` dispatches to them."""
