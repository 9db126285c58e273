"""The tfq_layers model zoo: small, complete hybrid quantum-classical recipes.

Each module trains with ``python -m models.<name>``, evaluates on a held-out split and prints
``test accuracy: ...``; each also offers ``load_data(seed=...)``, ``build_model(...)`` and
``main(argv=None)``. ``python -m models.zoo`` runs them all and prints the results table.

In an installed wheel this package is ``tfq_layers.zoo`` (``python -m tfq_layers.zoo.<name>``).

Classifiers: ``hybrid_classifier``, ``iris``, ``reuploading``, ``digits_qnn``, ``qcnn``.
"""

CLASSIFIERS = ("hybrid_classifier", "iris", "reuploading", "digits_qnn", "qcnn")
