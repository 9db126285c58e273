"""What a recipe run reached: :class:`Result`, its printed report and reproduce command."""

import dataclasses
import sys

__all__ = ["Result", "report", "command"]


@dataclasses.dataclass
class Result:
    """What one recipe run reached, for the zoo table.

    Args:
        name: module name (``"iris"``).
        task: one-line task description.
        qubits: number of qubits simulated.
        quantum_params: trainable circuit parameters.
        classical_params: trainable classical (Keras) parameters.
        epochs: epochs trained.
        metric: metric name, e.g. ``"test accuracy"``.
        value: the held-out value of ``metric``.
        wall_time: seconds for data + training + evaluation (not imports, export or plots).
        command: the command that reproduces the run.
        extra: further numbers (e.g. a classical baseline), ``{label: value}``.
        history: the ``keras.callbacks.History`` of the run (``history.model`` is the trained
            model), or ``None``.

    Example:
        >>> r = Result("iris", "Iris", 4, 36, 15, 60, "test accuracy", 0.96, 30.0, "python -m x")
        >>> r.line()
        'test accuracy: 0.960'
    """

    name: str
    task: str
    qubits: int
    quantum_params: int
    classical_params: int
    epochs: int
    metric: str
    value: float
    wall_time: float
    command: str
    extra: dict = dataclasses.field(default_factory=dict)
    history: object = dataclasses.field(default=None, repr=False, compare=False)

    def formatted_value(self):
        """``value`` as printed: 3 decimals for accuracies, 4 significant digits otherwise."""
        return f"{self.value:.3f}" if "accuracy" in self.metric else f"{self.value:.4g}"

    def line(self):
        """The result line every run ends with, e.g. ``test accuracy: 0.953``."""
        return f"{self.metric}: {self.formatted_value()}"


def report(result):
    """Print ``result``'s extra numbers, then its result line (last, on a line of its own)."""
    for label, value in result.extra.items():
        print(f"{label}: {value:.3f}" if isinstance(value, float) else f"{label}: {value}")
    print(
        f"wall time: {result.wall_time:.1f} s; trainable parameters: "
        f"{result.quantum_params} quantum / {result.classical_params} classical"
    )
    print(result.line(), flush=True)


def command(module, argv):
    """The reproduce command of a run: ``python -m models.NAME [args]``."""
    argv = sys.argv[1:] if argv is None else argv
    return " ".join(["python -m", module] + list(argv))
