"""PNG figures of the main job: confusion matrices, detection rates, curves.

The figures are drawn on :class:`matplotlib.figure.Figure` objects with the
Agg canvas, never through :mod:`matplotlib.pyplot`, so they work on headless
machines and leave the user's pyplot state and backend alone.
"""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._report import MODEL_TITLES, atomic_path

__all__ = [
    "plot_confusion_matrices",
    "plot_detection_rates",
    "plot_training_curves",
    "save_figure",
]


def save_figure(figure, path, *, dpi=110):
    """Save ``figure`` as a PNG atomically.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : str or path-like
        Destination; written through a temporary file and renamed.
    dpi : int, default=110
        Resolution.

    Returns
    -------
    path : str or path-like
        ``path``, unchanged.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> from sklearn_2dbm._plots import save_figure
    >>> target = Path(tempfile.mkdtemp()) / "empty.png"
    >>> _ = save_figure(Figure(figsize=(2, 2)), target)
    >>> target.read_bytes()[:4]
    b'\\x89PNG'
    """
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return path


def plot_confusion_matrices(results, *, protocol=None):
    """Draw one confusion matrix per model, rows normalised to 1.

    Parameters
    ----------
    results : dict
        Model name -> metrics dict holding ``confusion_matrix`` and
        ``confusion_labels`` (as returned by
        :func:`sklearn_2dbm._report.detection_metrics`).
    protocol : str, default=None
        Protocol name, written in the title.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure, one panel per model.

    Examples
    --------
    >>> from sklearn_2dbm._plots import plot_confusion_matrices
    >>> fig = plot_confusion_matrices(
    ...     {"teacher": {"confusion_matrix": [[5, 1], [0, 4]],
    ...                  "confusion_labels": ["0", "1"]}},
    ...     protocol="dedup-split",
    ... )
    >>> len(fig.axes) >= 1
    True
    """
    names = list(results)
    n_labels = max(len(results[name]["confusion_labels"]) for name in names)
    side = 2.6 + 0.35 * n_labels
    figure = Figure(figsize=(side * len(names), side + 0.4), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        labels = results[name]["confusion_labels"]
        if list(labels) == ["0", "1"]:
            labels = ["normal (0)", "attack (1)"]
        counts = np.asarray(results[name]["confusion_matrix"], dtype=float)
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(MODEL_TITLES.get(name, name), fontsize=10)
        if len(labels) <= 12:
            for i in range(len(labels)):
                for j in range(len(labels)):
                    ax.text(
                        j,
                        i,
                        f"{share[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if share[i, j] > 0.5 else "black",
                    )
    suffix = f" (protocol: {protocol})" if protocol else ""
    figure.suptitle(f"Confusion matrices, rows sum to 1{suffix}", fontsize=11)
    return figure


def plot_detection_rates(results, *, protocol=None):
    """Draw per-category detection rates as grouped horizontal bars.

    Parameters
    ----------
    results : dict
        Model name -> metrics dict holding ``detection_rate_by_category``
        and ``normal_category``.
    protocol : str, default=None
        Protocol name, written in the title.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> from sklearn_2dbm._plots import plot_detection_rates
    >>> fig = plot_detection_rates(
    ...     {"student": {"detection_rate_by_category": {"DoS": 0.9, "Normal": 0.01},
    ...                  "normal_category": "Normal"}}
    ... )
    >>> bool(fig.axes[0].get_xlim()[1] >= 1.0)
    True
    """
    names = list(results)
    categories = list(results[names[0]]["detection_rate_by_category"])
    normal = results[names[0]].get("normal_category")
    positions = np.arange(len(categories))
    height = 0.8 / len(names)
    figure = Figure(figsize=(7.5, 1.2 + 0.45 * len(categories)), layout="constrained")
    ax = figure.subplots()
    for k, name in enumerate(names):
        rates = [results[name]["detection_rate_by_category"][c] for c in categories]
        ax.barh(
            positions + (k - (len(names) - 1) / 2) * height,
            rates,
            height=height,
            label=MODEL_TITLES.get(name, name),
        )
    labels = [f"{c} (false alarms)" if c == normal else str(c) for c in categories]
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.05)
    ax.set_xlabel("fraction of the category's test flows flagged as attack")
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=len(names),
        fontsize=8,
        frameon=False,
    )
    suffix = f" (protocol: {protocol})" if protocol else ""
    ax.set_title(f"Detection rate by category{suffix}", fontsize=11)
    return figure


def _history_series(history, key):
    values = []
    for entry in history or []:
        value = entry.get(key) if hasattr(entry, "get") else None
        values.append(np.nan if value is None else float(value))
    return np.asarray(values, dtype=float)


def plot_training_curves(histories, *, protocol=None):
    """Draw the per-epoch training (and validation) loss of each network.

    Parameters
    ----------
    histories : dict
        Model name -> sequence of per-epoch dicts (for instance a skorch
        ``History``) with a ``train_loss`` entry and optionally
        ``valid_loss``.
    protocol : str, default=None
        Protocol name, written in the title.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure, one panel per network.

    Examples
    --------
    >>> from sklearn_2dbm._plots import plot_training_curves
    >>> fig = plot_training_curves(
    ...     {"teacher": [{"epoch": 1, "train_loss": 0.6},
    ...                  {"epoch": 2, "train_loss": 0.4}]}
    ... )
    >>> len(fig.axes)
    1
    """
    names = list(histories)
    figure = Figure(figsize=(4.2 * len(names), 3.4), layout="constrained")
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        history = histories[name]
        train = _history_series(history, "train_loss")
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, marker="o", label="training loss")
        valid = _history_series(history, "valid_loss")
        if np.isfinite(valid).any():
            ax.plot(epochs, valid, marker="s", label="validation loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(MODEL_TITLES.get(name, name), fontsize=10)
        ax.legend(fontsize=8)
    suffix = f" (protocol: {protocol})" if protocol else ""
    figure.suptitle(f"Training curves{suffix}", fontsize=11)
    return figure
