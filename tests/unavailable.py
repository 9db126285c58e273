"""``without_tfq(action)``: run ``action()`` as on a platform where TensorFlow Quantum cannot run.

The backend registry's entry for ``"tfq"`` is set to say why not (as on macOS or Python 3.13),
whether or not TFQ is installed here, and restored afterwards. Shared by the bad-input catalogues
(``tests/errors``), which check the errors a user meets there.
"""


def without_tfq(action):
    """``action()`` with TFQ's backend unavailable; returns what it returns."""
    from tfq_layers import backends

    info = backends.REGISTRY["tfq"]
    saved = info._checked, info._reason
    info._checked, info._reason = True, "TensorFlow Quantum (tensorflow-quantum) is not installed."
    try:
        return action()
    finally:
        info._checked, info._reason = saved
