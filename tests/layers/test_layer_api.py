"""The native layers' public surface: the package's ``__all__``, a repr that describes the circuit,
the ``simulator`` attribute, ``symbol_values()`` keys, and no argument silently dropped."""

import cirq
import numpy as np
import pytest
import sympy
import tensorflow as tf

import tfq_layers
from tfq_layers import PQC, PQCProbabilities, PQCSample, PQCState, PQCUnitary

Q = cirq.GridQubit.rect(1, 2)
X, W0, W1 = sympy.symbols("x w0 w1")
CIRCUIT = cirq.Circuit(
    cirq.rx(X).on(Q[0]), cirq.ry(W0).on(Q[1]), cirq.CNOT(*Q), cirq.rz(W1).on(Q[1])
)


def test_saving_and_export_are_public_modules():
    for name in ("saving", "export"):
        assert name in tfq_layers.__all__
        assert getattr(tfq_layers, name).__name__ == f"tfq_layers.{name}"
    assert callable(tfq_layers.saving.save_model)


def test_repr_names_qubits_symbols_observables_and_simulator():
    layer = PQC(CIRCUIT, [cirq.Z(Q[0]), cirq.X(Q[1])], input_symbols=["x"], name="quantum")
    text = repr(layer)
    assert text.startswith("<PQC name=quantum, qubits=2, inputs=[x], weights=[w0, w1], ")
    assert str(cirq.PauliSum.wrap(cirq.Z(Q[0]))) in text and "auto (chosen in build)" in text
    assert text.endswith("built=False>")
    layer(tf.zeros((1, 1)))
    assert f"simulator={layer.simulator}, built=True>" in repr(layer)
    many = PQC(CIRCUIT, [cirq.Z(q) for q in Q] * 3, input_symbols=["x"], backend="statevector")
    assert "... (6 in all)" in repr(many) and "simulator=statevector" in repr(many)
    assert "observables" not in repr(PQCState(CIRCUIT, input_symbols=["x"]))


def test_simulator_is_the_resolved_backend_and_backend_its_alias():
    layer = PQC(CIRCUIT, cirq.Z(Q[0]), input_symbols=["x"])
    assert layer.simulator is None and layer.backend is None  # "auto" resolves in build
    layer.build((None, 1))
    assert layer.simulator in ("tfq", "statevector")
    assert layer.backend == layer.simulator
    assert layer.get_config()["backend"] == "auto"  # the request, as given


def test_symbol_values_are_keyed_by_name_and_resolve_the_circuit():
    layer = PQC(CIRCUIT, cirq.Z(Q[1]), input_symbols=["x"], backend="statevector")
    layer.build((None, 1))
    layer.circuit_weights.assign([0.3, -1.1])
    values = layer.symbol_values()
    assert values == pytest.approx({"w0": 0.3, "w1": -1.1})
    assert all(isinstance(k, str) for k in values)
    assert list(values) == layer.get_config()["weight_symbols"]
    resolved = cirq.resolve_parameters(CIRCUIT, {**values, "x": 0.7})
    z = cirq.Simulator(dtype=np.complex128).simulate_expectation_values(resolved, [cirq.Z(Q[1])])[0]
    np.testing.assert_allclose(layer(tf.constant([[0.7]])).numpy()[0, 0], z.real, atol=1e-5)


@pytest.mark.parametrize("cls", [PQCProbabilities, PQCState, PQCUnitary, PQCSample])
def test_circuit_output_layers_refuse_observables(cls):
    kwargs = {"repetitions": 4} if cls is PQCSample else {}
    with pytest.raises(ValueError, match="takes no observables"):
        cls(CIRCUIT, input_symbols=["x"], observables=cirq.Z(Q[0]), **kwargs)
    layer = cls(CIRCUIT, input_symbols=["x"], observables=None, **kwargs)  # older configs
    assert "observables" not in layer.get_config()
