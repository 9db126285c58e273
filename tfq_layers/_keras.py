"""The one place that decides which Keras this package builds on.

TensorFlow 2.18 makes ``tf.keras`` Keras 3 unless ``TF_USE_LEGACY_KERAS`` is set, in which case it
is the legacy ``tf_keras`` package.  We follow exactly the same rule, so a layer from this package
always belongs to the same Keras as the user's ``tf.keras`` model.
"""

import os

LEGACY = os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")

if LEGACY:  # pragma: no cover - exercised by the legacy test lane
    import tf_keras as keras  # noqa: F401

    from tfq_layers import _tf_keras_seed

    _tf_keras_seed.apply()  # tf_keras 2.18.0 seeding fails on Python 3.12 without it
else:
    import keras  # noqa: F401

    if keras.backend.backend() != "tensorflow":
        raise ImportError(
            f"tfq_layers runs on Keras's TensorFlow backend, but Keras is set to the "
            f"{keras.backend.backend()!r} backend (KERAS_BACKEND or ~/.keras/keras.json). "
            "Set KERAS_BACKEND=tensorflow before the first import of keras."
        )

KERAS3 = not LEGACY


def build_at_init(layer):
    """Mark a layer with no state as built when it is created (Keras's contract for stateless
    layers; Keras 3 does it only when ``build`` is not overridden)."""
    if KERAS3:
        layer._build_at_init()
    else:  # pragma: no cover - exercised by the legacy test lane
        layer.built = True


def register(name):
    """Register a class for Keras (de)serialization under the ``tfq_layers`` package."""
    return keras.saving.register_keras_serializable(package="tfq_layers", name=name)
