"""``python -m benchmarks``: the step-time benchmark (``make bench``)."""

from benchmarks.step_time import main

main()
