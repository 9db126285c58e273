"""Carry a TensorFlow Quantum program (``.py`` or ``.ipynb``) to Keras 3 and ``tfq_layers``.

Usage::

    python -m tfq_layers.migrate SRC [-o DST]

Writes the Keras 3 version of ``SRC`` (default ``DST``: ``<name>_keras3.<ext>`` next to it; ``-``
prints it) and prints one line per change made and, for each change that cannot be made safely
without knowing what the program's values are at run time, the place (``file:line``, or
``file:cell N:line`` in a notebook) and the exact edit to make by hand.

Rewritten (each rewrite is safe: the new spelling means the same in Keras 3):

* ``import tensorflow_quantum as tfq`` -> ``import tfq_layers.compat as tfq`` (``from
  tensorflow_quantum import x`` likewise);
* ``os.environ["TF_USE_LEGACY_KERAS"] = "1"`` (also ``setdefault``/``putenv`` and ``%env``)
  removed: left in, the program silently keeps running on Keras 2 (tf_keras);
* ``Input(shape=(1))`` -> ``Input(shape=(1,))`` (``(1)`` is the int 1, which Keras 3 refuses as
  a shape; also ``batch_shape`` and Keras 2's ``input_shape=`` of any layer);
* ``tf.keras.losses.mean_squared_error`` -> ``tf.keras.losses.MSE`` and the other loss/metric
  functions that Keras 3's ``tf.keras`` keeps only under their short names (MAE, MAPE, MSLE, KLD,
  logcosh), through any alias of ``tf.keras`` (``from tensorflow import keras``);
* ``optimizers.experimental.Adam`` -> ``optimizers.Adam``; ``lr=`` -> ``learning_rate=`` in
  optimizer constructors; ``fit_generator``/``evaluate_generator``/``predict_generator`` ->
  ``fit``/``evaluate``/``predict``.

Reported with the edit to make (each depends on values known only at run time):

* a model called with a list mixing tensors and NumPy arrays (Keras 3: "cannot mix tensors and
  non-tensors");
* custom metric functions (Keras 3 passes int/bool labels uncast);
* ``tf.Variable`` attributes of a custom layer or model (Keras 3 does not track them: they are
  missing from ``trainable_variables`` and never trained);
* ``tape.watch(model.trainable_variables)`` (Keras 3 variables are not ``tf.Variable``; the tape
  watches them anyway);
* ``Input(shape=(n))`` with a name ``n``, ``decay=`` in optimizers, ``model.save`` to a path
  without ``.keras``/``.h5``, imports of TFQ's internal modules, removed ``keras.backend``
  functions (learning phase, placeholders).

Pure Python (``ast``, ``tokenize``-free offsets, ``json``): it never imports TensorFlow.
"""

import argparse
import ast
import json
import os
import re
import sys
import tempfile

__all__ = ["migrate_file", "migrate_notebook", "migrate_source", "main"]

# Loss/metric functions of Keras 2 that Keras 3's ``tf.keras`` keeps under another name.
RENAMED_FUNCTIONS = {
    "mean_squared_error": "MSE",
    "mean_absolute_error": "MAE",
    "mean_absolute_percentage_error": "MAPE",
    "mean_squared_logarithmic_error": "MSLE",
    "kl_divergence": "KLD",
    "log_cosh": "logcosh",
}
GENERATOR_METHODS = {
    "fit_generator": "fit",
    "evaluate_generator": "evaluate",
    "predict_generator": "predict",
}
OPTIMIZERS = {"Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl", "AdamW"}
REMOVED_BACKEND = {
    "learning_phase",
    "set_learning_phase",
    "learning_phase_scope",
    "placeholder",
    "function",
    "in_train_phase",
    "in_test_phase",
}
LEGACY_ENV = "TF_USE_LEGACY_KERAS"
_MAGIC = re.compile(r"^\s*[!%?]")
_ENV_MAGIC = re.compile(r"^\s*%(set_)?env\s+" + LEGACY_ENV + r"\b")


class _Edit:
    __slots__ = ("start", "end", "text", "line", "note")

    def __init__(self, start, end, text, line, note):
        self.start, self.end, self.text, self.line, self.note = start, end, text, line, note


def _dotted(node):
    """``a.b.c`` for a chain of attributes on a name, else ``None``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Source:
    """The text of one program (or notebook cell) with ast positions as character offsets."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno, col):
        """Character offset of ``(lineno, col)``, ``col`` in UTF-8 bytes as ``ast`` gives it."""
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    def span(self, node):
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno, node.end_col_offset),
        )

    def segment(self, node):
        start, end = self.span(node)
        return self.text[start:end]


class _Context:
    """What one program knows across its parts (a notebook's cells run in one namespace)."""

    def __init__(self):
        self.tf_names = set()  # names bound to the tensorflow module
        self.tfkeras_names = set()  # names bound to tf.keras
        self.kinds = {}  # variable -> "tensor" | "numpy", from its last assignment
        self.functions = {}  # def name -> (part, line)
        self.metric_uses = set()  # names passed in compile(metrics=[...])
        self.part = 0

    def metric_advice(self):
        """``[(part, line, message)]`` for the custom metric functions."""
        return [
            (
                *self.functions[name],
                f"custom metric `{name}` receives labels as Keras 3 gives them (int64/bool, "
                "not cast to the prediction's dtype as in Keras 2): make its first line "
                "`y_true = tf.cast(y_true, y_pred.dtype)`.",
            )
            for name in sorted(self.metric_uses)
            if name in self.functions
        ]


class _Migrator(ast.NodeVisitor):
    def __init__(self, source, context):
        self.src = source
        self.ctx = context
        self.edits = []
        self.advice = []  # (line, message)
        self.tf_names = context.tf_names
        self.tfkeras_names = context.tfkeras_names
        self.kinds = context.kinds
        self.parents = {}
        self.class_stack = []

    # -- helpers ------------------------------------------------------------------------------
    def edit(self, start, end, text, line, note):
        self.edits.append(_Edit(start, end, text, line, note))

    def advise(self, line, message):
        self.advice.append((line, message))

    def is_tfkeras(self, dotted):
        if dotted is None:
            return False
        head, _, rest = dotted.partition(".")
        if head in self.tfkeras_names and not rest:
            return True
        return head in self.tf_names | {"tensorflow"} and rest == "keras"

    def tfkeras_tail(self, dotted):
        """``losses.mean_squared_error`` for ``tf.keras.losses.mean_squared_error``, else None."""
        if dotted is None:
            return None
        parts = dotted.split(".")
        for cut in (1, 2):
            if len(parts) > cut and self.is_tfkeras(".".join(parts[:cut])):
                return ".".join(parts[cut:])
        return None

    def _attr_span(self, node):
        """Span of the last attribute name of an ``ast.Attribute``."""
        _, end = self.src.span(node)
        return end - len(node.attr), end

    # -- the walk -----------------------------------------------------------------------------
    def run(self, tree):
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.visit(tree)

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name == "tensorflow":
                self.tf_names.add(alias.asname or "tensorflow")
            elif alias.name == "tensorflow.keras" and alias.asname:
                self.tfkeras_names.add(alias.asname)
            elif alias.name == "tensorflow_quantum":
                start, end = self.src.span(alias)
                name = alias.asname or "tensorflow_quantum"
                self.edit(
                    start,
                    end,
                    f"tfq_layers.compat as {name}",
                    node.lineno,
                    "import tensorflow_quantum -> tfq_layers.compat (TFQ's layers, "
                    "differentiators and ops on Keras 3)",
                )
            elif alias.name.startswith("tensorflow_quantum."):
                self.advise(
                    node.lineno,
                    f"`import {alias.name}` is a TFQ internal module: import what it provides "
                    "from `tfq_layers.compat` (e.g. `import tfq_layers.compat as tfq` and "
                    "`tfq.layers`, `tfq.differentiators`) or keep TFQ installed for it.",
                )
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if module == "tensorflow" and node.level == 0:
            for alias in node.names:
                if alias.name == "keras":
                    self.tfkeras_names.add(alias.asname or "keras")
        if module == "tensorflow_quantum" and node.level == 0:
            start, end = self.src.span(node)
            seg = self.src.text[start:end]
            m = re.match(r"from\s+tensorflow_quantum\b", seg)
            if m:
                self.edit(
                    start,
                    start + m.end(),
                    "from tfq_layers.compat",
                    node.lineno,
                    "from tensorflow_quantum -> from tfq_layers.compat",
                )
        elif module.startswith("tensorflow_quantum.") and node.level == 0:
            self.advise(
                node.lineno,
                f"`from {module} import ...` is a TFQ internal module: import the names from "
                "`tfq_layers.compat` (its `layers`, `differentiators`, ops) or keep TFQ "
                "installed for it.",
            )
        if module in ("tensorflow.keras.losses", "tensorflow.keras.metrics"):
            for alias in node.names:
                new = RENAMED_FUNCTIONS.get(alias.name)
                if new:
                    start, end = self.src.span(alias)
                    text = f"{new} as {alias.asname}" if alias.asname else f"{new} as {alias.name}"
                    self.edit(
                        start,
                        end,
                        text,
                        node.lineno,
                        f"{module}.{alias.name} -> {new} (its Keras 3 name)",
                    )
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.ctx.functions[node.name] = (self.ctx.part, node.lineno)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        bases = [(_dotted(b) or "").split(".")[-1] for b in node.bases]
        self.class_stack.append(any(b.endswith(("Layer", "Model")) for b in bases))
        self.generic_visit(node)
        self.class_stack.pop()

    def _legacy_env_statement(self, node):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            t = node.targets[0]
            if (
                isinstance(t, ast.Subscript)
                and _dotted(t.value) == "os.environ"
                and isinstance(t.slice, ast.Constant)
                and t.slice.value == LEGACY_ENV
            ):
                return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if (
                _dotted(call.func) in ("os.environ.setdefault", "os.putenv")
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and call.args[0].value == LEGACY_ENV
            ):
                return True
        return False

    def _remove_statement(self, node):
        parent = self.parents.get(node)
        body = None
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(parent, field, None)
            if isinstance(stmts, list) and node in stmts:
                body = stmts
        start, end = self.src.span(node)
        line_start = self.src.starts[node.lineno - 1]
        last = self.src.lines[node.end_lineno - 1]
        line_end = self.src.starts[node.end_lineno - 1] + len(last)
        before = self.src.text[line_start:start]
        after = self.src.text[end:line_end]
        alone = not before.strip() and (not after.strip() or after.strip().startswith("#"))
        note = f"removed the {LEGACY_ENV} setting (it keeps a program on Keras 2)"
        if body is not None and len(body) == 1:
            self.edit(start, end, "pass", node.lineno, note)
        elif alone:
            self.edit(line_start, line_end, "", node.lineno, note)
        else:
            self.edit(start, end, "pass", node.lineno, note)

    def generic_visit(self, node):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            for stmt in stmts if isinstance(stmts, list) else []:
                if isinstance(stmt, ast.stmt) and self._legacy_env_statement(stmt):
                    self._remove_statement(stmt)
        super().generic_visit(node)

    def visit_Assign(self, node):
        kind = self._kind(node.value)
        for t in node.targets:
            if isinstance(t, ast.Name):
                if kind:
                    self.kinds[t.id] = kind
                else:
                    self.kinds.pop(t.id, None)
                if _dotted(node.value) is not None and self.is_tfkeras(_dotted(node.value)):
                    self.tfkeras_names.add(t.id)
            if (
                self.class_stack
                and self.class_stack[-1]
                and isinstance(t, ast.Attribute)
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
                and isinstance(node.value, ast.Call)
                and self._is_tf(_dotted(node.value.func), "Variable")
            ):
                self._advise_variable(t.attr, node)
        self.generic_visit(node)

    def _is_tf(self, dotted, name):
        if dotted is None:
            return False
        head, _, rest = dotted.partition(".")
        return head in self.tf_names | {"tensorflow"} and rest == name

    def _advise_variable(self, attr, node):
        call = node.value

        def one_line(n):
            return re.sub(r"\s*\n\s*", " ", self.src.segment(n))

        kw = {k.arg: one_line(k.value) for k in call.keywords if k.arg}
        init = kw.get("initial_value") or (one_line(call.args[0]) if call.args else "...")
        extra = "".join(f", {key}={kw[key]}" for key in ("trainable", "dtype") if key in kw)
        name = kw.get("name", repr(attr))
        self.advise(
            node.lineno,
            f"`self.{attr} = tf.Variable(...)` in a Keras layer/model is not tracked by Keras 3 "
            "(missing from trainable_variables, so never trained or saved). Replace it with "
            f"`value = {init}` and `self.{attr} = self.add_weight(name={name}, "
            f"shape=tuple(value.shape), initializer=lambda shape, dtype=None: value{extra})`.",
        )

    def _kind(self, value):
        if isinstance(value, ast.Call):
            d = _dotted(value.func) or ""
            head = d.split(".")[0]
            if d.endswith("convert_to_tensor") or head in self.tf_names:
                return "tensor"
            if head in ("np", "numpy"):
                return "numpy"
        return None

    def visit_Call(self, node):
        func = _dotted(node.func)
        last = func.split(".")[-1] if func else None
        self._shape_keywords(node, last)
        self._optimizer_keywords(node, func, last)
        if isinstance(node.func, ast.Attribute) and node.func.attr in GENERATOR_METHODS:
            start, end = self._attr_span(node.func)
            new = GENERATOR_METHODS[node.func.attr]
            self.edit(start, end, new, node.lineno, f"{node.func.attr} -> {new} (Keras 3)")
        if isinstance(node.func, ast.Attribute) and node.func.attr == "watch":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Attribute) and arg.attr in (
                "trainable_variables",
                "trainable_weights",
                "variables",
                "weights",
            ):
                self.advise(
                    node.lineno,
                    f"delete `{self.src.segment(node)}`: a GradientTape watches trainable Keras "
                    "variables by itself, and Keras 3 variables are not tf.Variables, so "
                    "watch() rejects them (if the tape has watch_accessed_variables=False, use "
                    f"`{self.src.segment(node.func)}([v.value for v in "
                    f"{self.src.segment(arg)}])` instead).",
                )
        if last == "compile":
            for k in node.keywords:
                if k.arg == "metrics" and isinstance(k.value, (ast.List, ast.Tuple)):
                    for m in k.value.elts:
                        if isinstance(m, ast.Name):
                            self.ctx.metric_uses.add(m.id)
        self._mixed_call(node, func)
        self.generic_visit(node)

    def _shape_keywords(self, node, last):
        for k in node.keywords:
            is_input = last in ("Input", "InputLayer") and k.arg in ("shape", "batch_shape")
            if not (is_input or k.arg == "input_shape"):
                continue
            v = k.value
            start, end = self.src.span(v)
            text = self.src.text
            before = text[:start].rstrip()
            after = text[end:].lstrip()
            parenthesized = before.endswith("(") and after.startswith(")")
            if isinstance(v, ast.Constant) and type(v.value) is int:
                if parenthesized:
                    new = self.src.segment(v) + ","
                else:
                    new = f"({self.src.segment(v)},)"
                self.edit(
                    start,
                    end,
                    new,
                    node.lineno,
                    f"{k.arg}=({v.value}) -> ({v.value},) (a shape is a tuple in Keras 3)",
                )
            elif parenthesized and isinstance(v, (ast.Name, ast.Attribute, ast.BinOp, ast.Call)):
                seg = self.src.segment(v)
                self.advise(
                    node.lineno,
                    f"`{k.arg}=({seg})` is `{k.arg}={seg}`: if {seg} is an int, write "
                    f"`{k.arg}=({seg},)` (Keras 3 takes only tuples as shapes).",
                )

    def _optimizer_keywords(self, node, func, last):
        if not func or last not in OPTIMIZERS:
            return
        if "optimizers" not in func.split(".") and func != last:
            return
        for k in node.keywords:
            if k.arg == "lr":
                start = self.src.offset(k.lineno, k.col_offset)
                self.edit(start, start + 2, "learning_rate", node.lineno, "lr= -> learning_rate=")
            elif k.arg == "decay":
                self.advise(
                    node.lineno,
                    f"`decay=` of {last} is gone in Keras 3: drop it and pass "
                    f"`learning_rate=keras.optimizers.schedules.InverseTimeDecay(<lr>, 1, "
                    f"{self.src.segment(k.value)})` for the same schedule.",
                )

    def _mixed_call(self, node, func):
        """``model([tensor, array])``: Keras 3 refuses to mix tensors and NumPy arrays."""
        if len(node.args) != 1 or not isinstance(node.args[0], (ast.List, ast.Tuple)):
            return
        if func is None or func.split(".")[0] in self.tf_names | {"np", "numpy", "tfq", "cirq"}:
            return
        if func.split(".")[-1] in ("fit", "predict", "evaluate", "train_on_batch", "append"):
            return
        elts = node.args[0].elts
        kinds = [self.kinds.get(e.id) if isinstance(e, ast.Name) else self._kind(e) for e in elts]
        if "tensor" in kinds and "numpy" in kinds:
            fixed = ", ".join(
                f"tf.convert_to_tensor({self.src.segment(e)})"
                if k == "numpy"
                else self.src.segment(e)
                for e, k in zip(elts, kinds)
            )
            self.advise(
                node.lineno,
                f"`{self.src.segment(node)}` mixes tensors and NumPy arrays, which a Keras 3 "
                f"model call refuses: write `{self.src.segment(node.func)}([{fixed}])`.",
            )

    def visit_Attribute(self, node):
        dotted = _dotted(node)
        tail = self.tfkeras_tail(dotted)
        if tail:
            parts = tail.split(".")
            if (
                len(parts) == 2
                and parts[0] in ("losses", "metrics")
                and parts[1] in RENAMED_FUNCTIONS
                and isinstance(self.parents.get(node), ast.AST)
            ):
                start, end = self._attr_span(node)
                new = RENAMED_FUNCTIONS[parts[1]]
                self.edit(start, end, new, node.lineno, f"{dotted} -> ...{parts[0]}.{new}")
            elif len(parts) == 3 and parts[:2] == ["optimizers", "experimental"]:
                inner = node.value  # ...optimizers.experimental
                start, _ = self._attr_span(inner)
                end, _ = self._attr_span(node)
                self.edit(start, end, "", node.lineno, f"{dotted} -> optimizers.{parts[2]}")
            elif len(parts) == 2 and parts[0] == "backend" and parts[1] in REMOVED_BACKEND:
                self.advise(
                    node.lineno,
                    f"`{dotted}` is gone in Keras 3 (no learning phase or graph placeholders): "
                    "remove it; pass `training=True/False` to the model call instead.",
                )
            if len(parts) > 1:
                return  # the chain's inner attributes are part of this one
        self.generic_visit(node)

    def visit_Expr(self, node):
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "save"
            and len(call.args) == 1
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and not call.args[0].value.endswith((".keras", ".h5", ".weights.h5"))
            and (_dotted(call.func) or "").split(".")[0] not in ("np", "numpy", "plt")
        ):
            path = call.args[0].value
            self.advise(
                node.lineno,
                f"`{self.src.segment(call)}`: Keras 3 saves to `.keras` files; write "
                f"`{self.src.segment(call.func)}({path + '.keras'!r})` (or "
                f"`.export({path!r})` for a TensorFlow SavedModel).",
            )
        self.generic_visit(node)


def _mask_magics(text):
    """``text`` with IPython magics and shell lines replaced by ``pass`` (same line count), the
    lines that set ``TF_USE_LEGACY_KERAS`` by magic, and whether the cell is Python at all."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].lstrip().startswith("%%"):
        return None, []
    env_lines = []
    out = []
    for i, line in enumerate(lines):
        if _MAGIC.match(line):
            if _ENV_MAGIC.match(line):
                env_lines.append(i)
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "pass" + ("\n" if line.endswith("\n") else ""))
        else:
            out.append(line)
    return "".join(out), env_lines


def migrate_source(text, context=None):
    """Migrate one program (or notebook cell).

    Args:
        text: Python source; IPython magics (``!pip``, ``%matplotlib``) are left as they are.
        context: shared by the cells of one notebook (internal); ``None`` for a whole program.

    Returns:
        ``(new_text, changes, advice)``: ``changes`` and ``advice`` are lists of
        ``(line, message)`` (1-based lines of ``text``).

    Example:
        >>> migrate_source("import tensorflow_quantum as tfq\\n")[0]
        'import tfq_layers.compat as tfq\\n'
    """
    masked, env_lines = _mask_magics(text)
    if masked is None:
        return text, [], []
    try:
        tree = ast.parse(masked)
    except SyntaxError as err:
        return text, [], [(err.lineno or 1, f"not Python ({err.msg}); left as it is.")]
    src = _Source(text)
    whole = context is None
    context = context or _Context()
    m = _Migrator(src, context)  # masked lines keep their length in lines; no edit touches them
    m.run(tree)
    if whole:
        m.advice += [(line, msg) for _, line, msg in context.metric_advice()]
    edits = list(m.edits)
    for i in env_lines:
        edits.append(
            _Edit(src.starts[i], src.starts[i + 1], "", i + 1, f"removed %env {LEGACY_ENV}")
        )
    edits.sort(key=lambda e: (e.start, e.end))
    kept = []
    for e in edits:
        if kept and e.start < kept[-1].end:
            continue  # overlapping: the first wins (a removed statement swallows inner edits)
        kept.append(e)
    new = text
    for e in reversed(kept):
        new = new[: e.start] + e.text + new[e.end :]
    changes = [(e.line, e.note) for e in kept]
    return new, changes, sorted(m.advice)


def migrate_notebook(notebook):
    """Migrate every code cell of a notebook (the parsed ``.ipynb`` JSON, changed in place).

    Returns:
        ``(notebook, changes, advice)`` with ``(cell_index, line, message)`` entries.
    """
    changes, advice = [], []
    context = _Context()
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        context.part = index
        new, ch, adv = migrate_source(text, context)
        if new != text:
            cell["source"] = new.splitlines(keepends=True) if isinstance(source, list) else new
        changes += [(index, line, msg) for line, msg in ch]
        advice += [(index, line, msg) for line, msg in adv]
    advice = sorted(advice + context.metric_advice())
    return notebook, changes, advice


def _write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".migrate-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def migrate_file(src, dst=None, out=None):
    """Migrate ``src`` (``.py`` or ``.ipynb``) into ``dst`` and print the report to ``out``.

    Args:
        src: path of the TFQ program.
        dst: output path (default ``<name>_keras3<ext>`` next to ``src``; ``"-"``: stdout).
        out: stream for the report (default ``sys.stderr`` when ``dst`` is ``"-"``, else stdout).

    Returns:
        ``(changes, advice)``, each a list of printed lines.
    """
    src = str(src)
    if not src.endswith((".py", ".ipynb")):
        raise ValueError(f"{src}: not a .py or .ipynb file; give the TFQ program's source.")
    try:
        with open(src, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{src}: not UTF-8 text ({err.reason} at byte {err.start}); save the program as "
            "UTF-8 and run again."
        ) from None
    if dst is None:
        stem, ext = os.path.splitext(src)
        dst = f"{stem}_keras3{ext}"
    dst = str(dst)
    if dst != "-":
        folder = os.path.dirname(os.path.abspath(dst))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(
                f"{dst}: cannot write there (the folder {folder} "
                + ("is not a folder" if not os.path.isdir(folder) else "is not writable")
                + "); give a path in a writable folder with -o, or '-o -' for stdout."
            )
    out = out or (sys.stderr if dst == "-" else sys.stdout)
    if src.endswith(".ipynb"):
        try:
            notebook = json.loads(text)
        except ValueError as err:
            raise ValueError(
                f"{src}: not a notebook (its JSON does not parse: {err}); open and re-save it in "
                "Jupyter/Colab, or migrate the .py export of it."
            ) from None
        cells = notebook.get("cells") if isinstance(notebook, dict) else None
        if not isinstance(cells, list) or not all(
            isinstance(c, dict) and isinstance(c.get("source", ""), (str, list)) for c in cells
        ):
            raise ValueError(
                f"{src}: not a notebook (no list of cells with text sources, as nbformat 4 "
                "writes); open and re-save it in Jupyter/Colab, or migrate the .py export of it."
            )
        notebook, ch, adv = migrate_notebook(notebook)
        indent = 1 if text.startswith("{\n ") and not text.startswith("{\n  ") else 2
        new = json.dumps(notebook, indent=indent, ensure_ascii=False) + "\n"
        changes = [f"{src}:cell {c}:{line}: {msg}" for c, line, msg in ch]
        advice = [f"{src}:cell {c}:{line}: EDIT BY HAND: {msg}" for c, line, msg in adv]
    else:
        new, ch, adv = migrate_source(text)
        changes = [f"{src}:{line}: {msg}" for line, msg in ch]
        advice = [f"{src}:{line}: EDIT BY HAND: {msg}" for line, msg in adv]
    if dst == "-":
        sys.stdout.write(new)
    else:
        _write_atomic(dst, new)
    for line in changes + advice:
        print(line, file=out)
    print(
        f"{src}: {len(changes)} change(s) made, {len(advice)} to make by hand -> "
        f"{'stdout' if dst == '-' else dst}",
        file=out,
    )
    return changes, advice


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tfq_layers.migrate",
        description="Carry a TensorFlow Quantum program (.py or .ipynb) to Keras 3 and "
        "tfq_layers: rewrites what is safe (the tensorflow_quantum import, TF_USE_LEGACY_KERAS, "
        "Input(shape=(1)), Keras 2 names), and prints file:line and the exact edit for what "
        "depends on run-time values.",
    )
    parser.add_argument("src", metavar="SRC", help="the TFQ program (.py or .ipynb)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="DST",
        help="where to write the Keras 3 version (default: <name>_keras3.<ext> next to SRC; "
        "'-': stdout)",
    )
    args = parser.parse_args(argv)
    if not os.path.isfile(args.src):
        parser.error(f"{args.src}: no such file")
    if not args.src.endswith((".py", ".ipynb")):
        parser.error(f"{args.src}: give a .py or .ipynb file")
    if args.output not in (None, "-") and os.path.exists(args.output):
        if os.path.samefile(args.src, args.output):  # the API may rewrite in place; not the CLI
            parser.error(
                f"{args.output}: the output would overwrite the program being migrated; give "
                "another path with -o (default: <name>_keras3.<ext> next to it)."
            )
    try:
        migrate_file(args.src, args.output)
    except (ValueError, OSError) as err:  # named by migrate_file, or the file system's own
        parser.error(str(err))
    return 0


if __name__ == "__main__":
    sys.exit(main())
