"""Package layout only; every piece of metadata is in pyproject.toml.

The model-zoo recipes live in ``models/`` in the repository (``python -m models.<name>``) and are
shipped in the wheel as the subpackage ``tfq_layers.zoo`` (``python -m tfq_layers.zoo.<name>``):
the same files, mapped by ``package_dir``. A top-level package called ``models`` would be too
generic a name to install into site-packages.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["tfq_layers", "tfq_layers.*"]), "tfq_layers.zoo"],
    package_dir={"tfq_layers.zoo": "models"},
)
