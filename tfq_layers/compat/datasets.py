"""TFQ's ``tfq.datasets``: data that TFQ downloads.

TFQ's ``xxz_chain`` and ``tfi_chain`` fetch precomputed circuits (about 100 MB) from
``https://storage.googleapis.com/download.tensorflow.org/data/quantum/spin_systems/`` on first
use. This package does not download anything: each function here raises an ``OSError`` that
names the download and the way round it.
"""

__all__ = ["tfi_chain", "xxz_chain"]

_URL = "https://storage.googleapis.com/download.tensorflow.org/data/quantum/spin_systems/"


def _refuse(name):
    raise OSError(
        f"tfq.datasets.{name} downloads TFQ's precomputed circuits from {_URL} "
        f"({name} and the files it reads are TFQ's); tfq_layers.compat does not download. Run "
        f"it once with TensorFlow Quantum installed (tensorflow_quantum.datasets.{name}) and "
        "save the circuits (tfq_layers.compat.convert_to_tensor), or build your own "
        "circuits and labels with Cirq."
    )


def xxz_chain(qubits, boundary_condition="closed", data_dir=None):
    """TFQ's ``tfq.datasets.xxz_chain``: refused with an ``OSError`` naming the download.

    Args:
        qubits, boundary_condition, data_dir: TFQ's arguments (not used).

    Example:
        >>> xxz_chain(cirq.GridQubit.rect(4, 1))
        Traceback (most recent call last):
        ...
        OSError: tfq.datasets.xxz_chain downloads TFQ's precomputed circuits ...
    """
    _refuse("xxz_chain")


def tfi_chain(qubits, boundary_condition="closed", data_dir=None):
    """TFQ's ``tfq.datasets.tfi_chain``: refused with an ``OSError`` naming the download.

    Args:
        qubits, boundary_condition, data_dir: TFQ's arguments (not used).
    """
    _refuse("tfi_chain")
