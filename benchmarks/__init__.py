"""Benchmarks of tfq_layers (not shipped in the wheel): ``python -m benchmarks`` is ``make bench``.

* :mod:`benchmarks.workload`: the one workload definition every benchmark times.
* :mod:`benchmarks.step_time`: layer step time against TFQ's op (``make bench``).
* :mod:`benchmarks.simulator`: the statevector simulator alone (fusion, gradient modes, memory).
* :mod:`benchmarks.crossovers`: where ``backend="auto"`` should switch (``make bench-crossovers``).
* :mod:`benchmarks.peers`: TensorCircuit-NG and PennyLane-lightning (``make bench-peers``).
"""
