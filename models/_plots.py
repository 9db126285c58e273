"""Figures of the recipes: training curves and saving a figure."""

import os

import numpy as np

__all__ = ["plot_history", "save_figure"]


def plot_history(history, path, title):
    """Training curves (every metric in ``history.history``, train and validation) as a PNG.

    Args:
        history: the ``keras.callbacks.History`` returned by ``fit``.
        path: output file (``.png``); parent directories are created.
        title: figure title.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = history.history
    names = [k for k in hist if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(hist[name]) + 1)
        ax.plot(epochs, hist[name], label="train")
        if f"val_{name}" in hist:
            ax.plot(epochs, hist[f"val_{name}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)
    return path


def save_figure(fig, path):
    """Save a Matplotlib figure as PNG (creating directories), close it and print the path."""
    import matplotlib.pyplot as plt

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")
