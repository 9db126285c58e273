"""Saving that never destroys the previous good file, and loading with clear errors.

Keras' own ``model.save("m.keras")`` opens ``m.keras`` for writing first and fills it afterwards.
When the write fails part-way (disk full, quota, a killed process), the previous model is already
gone and a truncated zip is left in its place, which ``keras.models.load_model`` then reports as
"File not found". A layer cannot change how Keras writes the file, so this module provides the
atomic alternative:

* :func:`save_model` writes to a temporary name in the same directory (same suffix, since Keras
  checks it), flushes it to disk and only then renames it over the target, an atomic step on POSIX
  file systems. If anything fails, the target is untouched and the temporary file is removed.
  ``BornMachine`` and ``QuantumBoltzmannMachine`` use it for their own ``save``.
* :func:`atomic_directory` does the same for directories (SavedModel exports): the export is
  written under a temporary name and swapped in when complete, so a failed export never leaves a
  half-written directory under the target name. :mod:`tfq_layers.export` uses it.
* :func:`atomic_write` is the same for any single file (reports, tables, plots).
* :func:`load_model` checks the archive before Keras reads it, so a truncated file, a missing,
  empty or malformed ``config.json``, or a config nested deeply enough to exhaust Python's
  recursion limit raises :class:`~tfq_layers.serialization.SerializationError` naming the file.
"""

import contextlib
import json
import os
import re
import shutil
import uuid
import zipfile

from tfq_layers.serialization import SerializationError

__all__ = [
    "save_model",
    "load_model",
    "check_keras_file",
    "atomic_write",
    "atomic_directory",
    "MAX_CONFIG_DEPTH",
]

# Nesting allowed in a .keras config.json: a model's config is 10-20 levels deep, a few more per
# nested model. Keras deserializes it recursively, several Python frames per level.
MAX_CONFIG_DEPTH = 100


def _temporary_name(path):
    """A fresh temporary name next to ``path``; temporary files that a killed save to ``path``
    left behind (their process has ended) are removed first."""
    directory, name = os.path.split(os.path.abspath(path))
    stem, suffix = os.path.splitext(name)
    if suffix == "":
        stem = name
    _remove_orphans(directory, stem, suffix)
    return os.path.join(directory, f".{stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or no way to tell: keep
        return True
    return True


def _remove_orphans(directory, stem, suffix):
    """Remove ``.<stem>.tmp-<pid>-<hex><suffix>`` (and ``.old``) entries whose process is gone."""
    pattern = re.compile(
        rf"\.{re.escape(stem)}\.tmp-(\d+)-[0-9a-f]{{8}}{re.escape(suffix)}(\.old)?"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for entry in names:
        match = pattern.fullmatch(entry)
        if match and int(match.group(1)) != os.getpid() and not _process_alive(int(match.group(1))):
            _remove(os.path.join(directory, entry))


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _fsync_tree(path):
    if os.path.isdir(path):
        for root, _, files in os.walk(path):
            for f in files:
                _fsync_file(os.path.join(root, f))
    else:
        _fsync_file(path)


def _fsync_file(path):
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _move_into_place(tmp, path):
    """Rename the complete ``tmp`` over ``path``: one atomic rename for a file; for a directory
    (which cannot be renamed over a non-empty one) the old one is renamed aside first and removed
    after the new one is in place, so ``path`` is at every moment the old or the new copy, except
    between two renames, when it is missing but the old copy still exists under a ``.old-`` name."""
    path = os.path.abspath(path)
    if os.path.isdir(tmp) and os.path.isdir(path):
        old = _temporary_name(path) + ".old"
        os.rename(path, old)
        try:
            os.rename(tmp, path)
        except BaseException:
            os.rename(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    _fsync_directory(os.path.dirname(path))


@contextlib.contextmanager
def atomic_write(path, mode="wb", **open_kwargs):
    """Open a temporary file next to ``path`` for writing; on success it replaces ``path``.

    If the ``with`` block raises (or the write fails, e.g. the disk is full), ``path`` keeps its
    previous content and the temporary file is removed.

    Example:
        >>> with atomic_write("table.md", "w") as f:          # doctest: +SKIP
        ...     f.write(report)
    """
    tmp = _temporary_name(path)
    try:
        with open(tmp, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _move_into_place(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a temporary directory name next to ``path`` (not yet created) to write into; when the
    ``with`` block completes, it replaces ``path``. If the block raises, ``path`` is untouched and
    the temporary directory is removed.

    Example:
        >>> with atomic_directory("serving_dir") as tmp:      # doctest: +SKIP
        ...     model.export(tmp)
    """
    tmp = _temporary_name(path)
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise FileNotFoundError(f"nothing was written to the temporary directory {tmp}")
        _fsync_tree(tmp)
        _move_into_place(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def save_model(model, path, overwrite=True, **kwargs):
    """Save ``model`` like ``model.save(path)``, but atomically.

    The model is written to a temporary file in the same directory (same suffix), flushed to disk
    and renamed over ``path`` only when complete. When saving fails part-way (disk full, quota,
    an exception in a layer's ``get_config``), ``path`` keeps the previous model and no temporary
    file is left behind.

    Args:
        model: a Keras model (Keras 3 or tf_keras).
        path: the target, usually ``"something.keras"``.
        overwrite: ``False`` refuses to replace an existing ``path`` (``FileExistsError``).
        **kwargs: passed to Keras' ``Model.save``.

    A ``path`` that is a symbolic link is written through, as Keras' ``model.save`` does: the
    file it points to is replaced (atomically) and the link stays. Temporary files left next to
    ``path`` by an earlier save that was killed are removed.

    Example:
        >>> from tfq_layers.saving import save_model, load_model   # doctest: +SKIP
        >>> save_model(model, "model.keras")                        # doctest: +SKIP
        >>> model = load_model("model.keras", safe_mode=True)       # doctest: +SKIP
    """
    from tfq_layers._keras import keras

    # Like Keras' model.save, a symbolic link is written through: its target gets the model
    # (replaced atomically next to the target) and the link stays a link.
    path = os.path.realpath(os.fspath(path))
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    tmp = _temporary_name(path)
    try:
        # Keras' own writer, bypassing an atomic ``save`` override (ours) that would recurse here.
        keras.Model.save(model, tmp, **kwargs)
        _fsync_tree(tmp)
        _move_into_place(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _depth_exceeds(document, limit):
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def check_keras_file(path):
    """Check that ``path`` is a complete ``.keras`` archive with a readable ``config.json``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        SerializationError: the archive is truncated or not a zip file, or its ``config.json`` is
            missing, empty, not JSON, or nested more than ``MAX_CONFIG_DEPTH`` levels; the message
            names the file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file.")
    if os.path.isdir(path):
        return
    if not zipfile.is_zipfile(path):
        raise SerializationError(
            f"{path} is not a complete .keras archive (a zip file): it was cut short, e.g. by a "
            f"save that failed part-way (disk full), or it is not a Keras model file "
            f"({os.path.getsize(path)} bytes). Load a previous copy; tfq_layers.saving.save_model "
            "never leaves a partial file."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            if "config.json" not in archive.namelist():
                raise SerializationError(
                    f"{path} has no config.json, so it is not a .keras model file (its members: "
                    f"{archive.namelist()[:5]})."
                )
            raw = archive.read("config.json")
            meta = archive.read("metadata.json") if "metadata.json" in archive.namelist() else b"{}"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as err:
        raise SerializationError(f"{path} is a damaged .keras archive ({err}).") from None
    if not raw.strip():
        raise SerializationError(f"{path}: its config.json is empty; the file is damaged.")
    try:
        config = json.loads(raw)
    except RecursionError:
        raise SerializationError(
            f"{path}: its config.json is nested too deeply to read; the file was altered or is "
            "not a Keras model file."
        ) from None
    except ValueError as err:
        raise SerializationError(
            f"{path}: its config.json is not valid JSON ({err}); the file is damaged."
        ) from None
    if not isinstance(config, dict):
        raise SerializationError(
            f"{path}: its config.json holds a {type(config).__name__}, not a model configuration."
        )
    if _depth_exceeds(config, MAX_CONFIG_DEPTH):
        raise SerializationError(
            f"{path}: its config.json is nested more than {MAX_CONFIG_DEPTH} levels deep; Keras "
            "would exhaust Python's recursion limit reading it. The file was altered."
        )
    _check_lane(path, meta)


def _check_lane(path, meta):
    """A file written by Keras 3 cannot be read by the legacy tf_keras lane, nor the reverse;
    name the mismatch instead of letting Keras fail on an unknown class or key."""
    from tfq_layers._keras import LEGACY

    try:
        version = str(json.loads(meta).get("keras_version", ""))
    except (ValueError, AttributeError):
        return
    if not version:
        return
    saved_by_3 = version.split(".")[0] == "3"
    if LEGACY and saved_by_3:
        raise SerializationError(
            f"{path} was saved by Keras {version} (Keras 3), but this process uses the legacy "
            "tf_keras (TF_USE_LEGACY_KERAS=1), which cannot read it. Load it in a process "
            "without TF_USE_LEGACY_KERAS, or re-save it from the legacy lane."
        )
    if not LEGACY and not saved_by_3:
        raise SerializationError(
            f"{path} was saved by tf_keras {version} (the legacy lane), but this process uses "
            "Keras 3, which cannot read it. Load it with TF_USE_LEGACY_KERAS=1, or re-save it "
            "from Keras 3."
        )


def load_model(path, **kwargs):
    """``keras.models.load_model(path, **kwargs)`` after :func:`check_keras_file`, so a damaged
    file gives an error naming it instead of "File not found" or a ``RecursionError``.

    The load is usually a program's first TensorFlow work: TensorFlow's runtime start-up lines
    (cuInit on a machine without a GPU, XLA's service lines) are kept off the terminal, as the
    first quantum layer built does (:func:`tfq_layers._quiet.quiet_xla_start`).

    Args:
        path: a ``.keras`` file (or a Keras model directory).
        **kwargs: passed to ``keras.models.load_model`` (``safe_mode``, ``custom_objects``,
            ``compile``).
    """
    from tfq_layers._keras import keras
    from tfq_layers._quiet import quiet_xla_start

    check_keras_file(path)
    quiet_xla_start()
    return keras.models.load_model(os.fspath(path), **kwargs)
