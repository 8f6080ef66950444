"""Weights-only saving and loading of the fitted classifiers."""

import json
import numbers
import pickle
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._base import ARCHITECTURE_PARAMS, _Net
from ._student import DistilledStudentClassifier
from ._teacher import BiLSTMTeacherClassifier
from ._version import __version__

__all__ = ["save_weights", "load_weights"]

_FORMAT = "sklearn_2dbm.weights"
_FORMAT_VERSION = 1
_CLASSES = {
    cls.__name__: cls for cls in (BiLSTMTeacherClassifier, DistilledStudentClassifier)
}


def _is_simple(value):
    return value is None or isinstance(value, (str, bool, numbers.Integral, float))


def _plain(value):
    """NumPy scalars to Python scalars, for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def save_weights(estimator, path):
    """Save a fitted classifier as weights and metadata, without pickle.

    The file holds the network's ``state_dict`` and a JSON string with the
    class name, the simple parameters (``get_params`` values that are
    ``None``, bools, ints, floats or strings), ``classes_``,
    ``n_features_in_``, ``feature_names_in_`` and the window shape. It is
    read back by :func:`load_weights` with ``torch.load(weights_only=True)``,
    which executes no code from the file.

    Parameters
    ----------
    estimator : BiLSTMTeacherClassifier or DistilledStudentClassifier
        A fitted classifier. For a student only the student is saved: the
        teacher is not needed to predict.
    path : str or path-like
        Destination file (conventionally ``*.pt``).

    Returns
    -------
    path : pathlib.Path
        The file written.

    See Also
    --------
    load_weights : The inverse operation.

    Notes
    -----
    Parameters that are not simple values (the student's ``teacher``, a
    ``class_weight`` dict, a ``RandomState``) are not saved and take their
    defaults on load. The training history is not saved. Use pickle or
    joblib to keep everything, at the price of trusting the file.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import BiLSTMTeacherClassifier, save_weights, load_weights
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.normal(size=(40, 2, 3)), np.repeat(["normal", "attack"], 20)
    >>> clf = BiLSTMTeacherClassifier(hidden_size=4, max_epochs=1, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_weights(clf, os.path.join(folder, "teacher.pt"))
    ...     loaded = load_weights(path)
    >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
    True
    """
    name = type(estimator).__name__
    if name not in _CLASSES or not isinstance(estimator, _CLASSES[name]):
        raise TypeError(
            f"save_weights saves BiLSTMTeacherClassifier and "
            f"DistilledStudentClassifier models, got {name}. Use joblib.dump for "
            f"other estimators and pipelines."
        )
    check_is_fitted(estimator)

    params = {
        key: _plain(value)
        for key, value in estimator.get_params(deep=False).items()
        if _is_simple(value)
    }
    if isinstance(estimator.device, torch.device):
        params["device"] = str(estimator.device)
    classes = estimator.classes_
    metadata = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "library_version": __version__,
        "class_name": name,
        "params": params,
        "classes": [_plain(label) for label in classes.tolist()],
        "classes_dtype": "object" if classes.dtype == object else classes.dtype.str,
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": (
            [str(name) for name in estimator.feature_names_in_]
            if hasattr(estimator, "feature_names_in_")
            else None
        ),
        "window_": int(estimator.window_),
        "n_flow_features_": int(estimator.n_flow_features_),
    }
    try:
        metadata = json.dumps(metadata)
    except TypeError as exc:
        raise TypeError(
            f"save_weights stores labels as JSON, so classes_ must hold ints, "
            f"floats, bools or strings; got {classes.tolist()!r}."
        ) from exc
    state_dict = {
        key: tensor.detach().cpu()
        for key, tensor in estimator.module_.state_dict().items()
    }
    torch.save({"metadata": metadata, "state_dict": state_dict}, path)
    return Path(path)


def load_weights(path):
    """Load a classifier saved by :func:`save_weights`.

    The file is read with ``torch.load(weights_only=True)`` and mapped to
    the CPU, so it cannot run code and loads on machines without CUDA.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save_weights`.

    Returns
    -------
    estimator : BiLSTMTeacherClassifier or DistilledStudentClassifier
        A fitted classifier that predicts like the saved one, on the CPU.
        It has no training history (``history_`` is empty) and a loaded
        student has no ``teacher_``.

    Raises
    ------
    ValueError
        If the file was not written by :func:`save_weights` (another torch
        file, a pickle, any other file) or by a newer file format.

    See Also
    --------
    save_weights : Writes the file.

    Examples
    --------
    See :func:`save_weights`.
    """
    not_ours = f"{path} is not a file written by sklearn_2dbm.save_weights"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, LookupError) as exc:
        raise ValueError(
            f"{not_ours}: torch.load(weights_only=True) cannot read it "
            f"(see the {type(exc).__name__} above). A model saved with pickle or "
            f"joblib.dump is read back with pickle.load or joblib.load, if "
            f"you trust the file."
        ) from exc
    try:
        if not isinstance(payload, dict):
            raise TypeError(type(payload).__name__)
        metadata = json.loads(payload["metadata"])
        state_dict = payload["state_dict"]
        if metadata["format"] != _FORMAT:
            raise KeyError("format")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{not_ours}: it lacks the sklearn_2dbm metadata.") from exc
    if metadata["format_version"] > _FORMAT_VERSION:
        raise ValueError(
            f"{path} was written in format version {metadata['format_version']} "
            f"by sklearn-2dbm {metadata['library_version']}; this version "
            f"({__version__}) reads up to version {_FORMAT_VERSION}. Upgrade "
            f"sklearn-2dbm."
        )

    try:
        estimator = _CLASSES[metadata["class_name"]](**metadata["params"])
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"{not_ours}: its metadata names class "
            f"{metadata.get('class_name')!r} with parameters "
            f"{sorted(metadata.get('params', {}))}, but save_weights writes "
            f"{sorted(_CLASSES)} with their own parameters."
        ) from exc
    estimator.classes_ = np.asarray(
        metadata["classes"], dtype=metadata["classes_dtype"]
    )
    estimator.n_features_in_ = metadata["n_features_in_"]
    if metadata["feature_names_in_"] is not None:
        estimator.feature_names_in_ = np.asarray(
            metadata["feature_names_in_"], dtype=object
        )
    estimator.window_ = metadata["window_"]
    estimator.n_flow_features_ = metadata["n_flow_features_"]

    net = _Net(
        **estimator._net_kwargs(
            n_classes=len(estimator.classes_),
            device="cpu",
            class_weight=None,
            train_split=None,
            callbacks=[],
        )
    )
    # Initialising draws random weights; keep the caller's torch RNG as it was.
    with torch.random.fork_rng(devices=[]):
        net.initialize()
    net.module_.load_state_dict(state_dict)
    net.module_.eval()
    estimator.net_ = net
    estimator.n_parameters_ = sum(p.numel() for p in net.module_.parameters())
    estimator._fit_architecture = {
        key: getattr(estimator, key) for key in ARCHITECTURE_PARAMS
    }
    return estimator
