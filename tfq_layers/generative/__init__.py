"""Generative models: Keras models of distributions over n-bit strings, trained with ``fit``.

* :class:`GenerativeModel`: the base class (losses ``"kl"``, ``"nll"``, ``"mmd"``, metrics that read
  the probability vector, sampling, data validation, saving).
* :class:`QuantumBoltzmannMachine`: exact quantum Boltzmann machine (Amin et al. 2018).
* :class:`BornMachine`: quantum circuit Born machine (probabilities of a parameterized circuit).
* :class:`QHBM`: quantum Hamiltonian-based model (Verdon et al. 2019), trained by VQT or QMHL, with
  the latent energy models :class:`BernoulliEnergy` and :class:`KOBEEnergy`.
* :class:`QGAN`: a generator (e.g. a Born machine) against a classical Keras discriminator
  (Zoufal, Lucchi & Woerner 2019).

Example:
    >>> from tfq_layers.generative import QuantumBoltzmannMachine
    >>> QuantumBoltzmannMachine(n_visible=4, n_hidden=2).n_units
    6
"""

from tfq_layers.generative.base import LOSSES, GenerativeModel, default_mmd_bandwidths
from tfq_layers.generative.born import BornMachine
from tfq_layers.generative.qbm import QuantumBoltzmannMachine
from tfq_layers.generative.energy import BernoulliEnergy, EnergyModel, KOBEEnergy
from tfq_layers.generative.qhbm import QHBM
from tfq_layers.generative.qgan import QGAN

__all__ = [
    "GenerativeModel",
    "LOSSES",
    "BornMachine",
    "QuantumBoltzmannMachine",
    "default_mmd_bandwidths",
    "EnergyModel",
    "BernoulliEnergy",
    "KOBEEnergy",
    "QHBM",
    "QGAN",
]
