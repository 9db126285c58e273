"""The static part of one compat executor call, and its JSON form."""

import cirq
import numpy as np

from tfq_layers import serialization

__all__ = ["CallSetup"]


class CallSetup:
    """The static part of one call: circuits (or ``None`` when they come as a tensor), symbol
    names, operators (``None`` with ``operator_input`` when they come as a tensor), repetitions;
    JSON-able through ``to_config``/``from_config``."""

    def __init__(
        self,
        circuits,
        names,
        values_given,
        operators=None,
        op_index=None,
        repetitions=None,
        single=True,
        operator_input=False,
    ):
        self.circuits = circuits  # list of cirq.Circuit, or None (tf.string tensor input)
        self.names = names
        self.values_given = values_given
        self.operators = operators
        self.op_index = op_index
        self.repetitions = repetitions
        self.single = single
        self.operator_input = operator_input  # operators come as a tensor input of each call
        self._key = None
        self._operator_tuple = None
        self.distinct, self.index = None, None
        if circuits is not None:
            keys, self.distinct, index = {}, [], []
            for c in circuits:
                key = c.freeze()
                if key not in keys:
                    keys[key] = len(self.distinct)
                    self.distinct.append(c.unfreeze() if isinstance(c, cirq.FrozenCircuit) else c)
                index.append(keys[key])
            self.index = np.array(index, np.int32)

    @property
    def operator_tuple(self):
        """The operators as one tuple, the same object on every call of this setup (a backend
        may recognise a repeated call by it)."""
        if self._operator_tuple is None and self.operators is not None:
            self._operator_tuple = tuple(self.operators)
        return self._operator_tuple

    @property
    def repetitions_input(self):
        """Whether repetitions come as a tensor input of each call (``"input"``)."""
        return isinstance(self.repetitions, str) and self.repetitions == "input"

    @property
    def empty(self):
        """Whether every circuit acts on no qubits (nothing to simulate)."""
        return self.circuits is not None and not any(c.all_qubits() for c in self.distinct)

    @property
    def data_mode(self):
        return self.circuits is None

    @property
    def n_rows(self):
        return None if self.circuits is None else len(self.circuits)

    def key(self):
        """What identifies this configuration (computed once: a setup never changes)."""
        if self._key is None:
            self._key = (
                None if self.circuits is None else tuple(c.freeze() for c in self.circuits),
                tuple(self.names),
                self.values_given,
                None if self.operators is None else tuple(str(o) for o in self.operators),
                None if self.op_index is None else self.op_index.tobytes(),
                self.repetitions,
                self.single,
                self.operator_input,
            )
        return self._key

    def to_config(self):
        return {
            "circuits": None if self.circuits is None else serialization.dumps(self.circuits),
            "single": self.single,
            "symbol_names": list(self.names),
            "values_given": self.values_given,
            "operators": None if self.operators is None else serialization.dumps(self.operators),
            "operator_index": None if self.op_index is None else self.op_index.tolist(),
            "repetitions": self.repetitions,
            "operator_input": self.operator_input,
        }

    @classmethod
    def from_config(cls, cfg):
        circuits = None if cfg.get("circuits") is None else serialization.loads(cfg["circuits"])
        if circuits is not None and (
            not isinstance(circuits, list) or not all(isinstance(c, cirq.Circuit) for c in circuits)
        ):
            raise serialization.SerializationError(
                "saved 'circuits' is not a list of cirq.Circuit; the file was altered or is not a "
                "tfq_layers model."
            )
        ops = None if cfg.get("operators") is None else serialization.loads(cfg["operators"])
        index = cfg.get("operator_index")
        return cls(
            circuits,
            [str(n) for n in cfg.get("symbol_names") or []],
            bool(cfg.get("values_given")),
            ops,
            None if index is None else np.array(index, np.int32),
            _as_tuples(cfg.get("repetitions")),
            bool(cfg.get("single", True)),
            bool(cfg.get("operator_input", False)),
        )


def _as_tuples(x):
    """JSON's lists back to the nested tuples ``parse_repetitions`` returns."""
    return tuple(_as_tuples(v) for v in x) if isinstance(x, list) else x
