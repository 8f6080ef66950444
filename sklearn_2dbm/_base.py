"""Plumbing shared by the skorch-backed classifiers.

The public classifiers are scikit-learn estimators that own a skorch net built
in ``fit``. Everything that is not the network or the loss lives here:
parameter and input validation, the window shape, label encoding, class
weights, seeding, devices, threads, the validation split for early stopping,
printing and inference.
"""

import contextlib
import numbers
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    EarlyStopping,
    EpochScoring,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from torch import nn

from ._modules import AttentionBiLSTM
from ._utils import draw_seed
from ._windowing import parse_window_columns
from .exceptions import SklearnTwoDBMWarning

# Parameters that shape the network or the meaning of its input. Changing one
# of them after fit makes the fitted network disagree with get_params().
ARCHITECTURE_PARAMS = ("hidden_size", "num_layers", "attention_size", "window")


def _stratified_validation_indices(y, fraction, seed):
    """Split row indices into train and validation, class by class.

    Each class with at least two rows gives ``round(fraction * count)`` rows
    (at least one, and always leaving one) to validation; rarer classes stay
    entirely in train, so a rare class never makes the split fail.
    """
    rng = np.random.default_rng(seed)
    valid = []
    for label in np.unique(y):
        rows = np.flatnonzero(y == label)
        if rows.size < 2:
            continue
        n_valid = min(max(int(round(fraction * rows.size)), 1), rows.size - 1)
        valid.append(rng.choice(rows, size=n_valid, replace=False))
    valid = np.sort(np.concatenate(valid)) if valid else np.empty(0, dtype=int)
    train = np.setdiff1d(np.arange(len(y)), valid)
    return train, valid


class _StratifiedValidSplit:
    """skorch ``train_split`` callable built on :func:`_stratified_validation_indices`.

    It stores only the fraction and the seed, so a pickled net stays small,
    and it slices skorch datasets (including dict inputs) as a whole.
    """

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, groups=None):
        y = np.asarray(y)
        train, valid = _stratified_validation_indices(y, self.fraction, self.seed)
        return (
            torch.utils.data.Subset(dataset, train),
            torch.utils.data.Subset(dataset, valid),
        )


def _valid_balanced_accuracy(net, X, y):
    """Balanced accuracy of a skorch net, for ``EpochScoring``."""
    with warnings.catch_warnings():
        # A small validation split may miss a class the net predicts.
        warnings.simplefilter("ignore", UserWarning)
        return balanced_accuracy_score(np.asarray(y), net.predict(X))


class _Net(NeuralNetClassifier):
    """skorch classifier without the default ``valid_acc`` column."""

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("print_log", PrintLog()),
        ]


@contextlib.contextmanager
def _local_torch_seed(seed, device):
    """Seed torch inside a forked RNG so the caller's RNG state is untouched."""
    device = torch.device(device)
    cuda_devices = []
    if device.type == "cuda":
        cuda_devices = [device.index if device.index is not None else 0]
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield


def _flatten_input(X):
    """Turn a 3-D array into 2-D; report the window the input carries.

    Returns ``(X, window or None, whether X was 3-D)``.
    """
    if hasattr(X, "columns"):
        parsed = parse_window_columns(X.columns)
        return X, None if parsed is None else parsed[0], False
    if getattr(X, "ndim", None) == 3:
        X = np.asarray(X)
        return X.reshape(X.shape[0], -1), X.shape[1], True
    return X, None, False


def _has_fitted_column_names(estimator, X):
    """Whether X is a DataFrame with exactly the columns seen in fit."""
    fitted = getattr(estimator, "feature_names_in_", None)
    columns = getattr(X, "columns", None)
    if fitted is None or columns is None or len(columns) != len(fitted):
        return False
    if not all(
        isinstance(dtype, np.dtype) and dtype.kind == "f" for dtype in set(X.dtypes)
    ):
        return False
    return bool(np.array_equal(np.asarray(columns, dtype=object), fitted))


def _softmax64(logits):
    """Row-wise softmax in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    logits = logits - logits.max(axis=1, keepdims=True)
    proba = np.exp(logits)
    return proba / proba.sum(axis=1, keepdims=True)


class BaseBiLSTMClassifier(ClassifierMixin, BaseEstimator):
    """Base class of the attention BiLSTM classifiers. Not for direct use.

    Subclasses set the architecture defaults and may override
    ``_training_input`` (what the net is fitted on) and ``_make_net`` (the
    skorch net class and its extra arguments).
    """

    _parameter_constraints = {
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "attention_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "lstm_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "window": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "n_threads": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "progress_bar": ["boolean"],
    }

    # ------------------------------------------------------------------ fit

    def _fit(self, X, y):
        """Validate, build the net and train it. Called by ``fit``."""
        device = self._check_device()
        X3, y_encoded = self._validate_training_data(X, y)
        class_weight = self._class_weight_tensor(y_encoded)
        seed = draw_seed(self.random_state)

        validate = self.early_stopping
        if validate:
            _, valid = _stratified_validation_indices(
                y_encoded, self.validation_fraction, seed
            )
            if valid.size == 0:
                warnings.warn(
                    f"early_stopping=True needs a validation split, but no class "
                    f"of the {len(y_encoded)} training rows has two rows to "
                    f"split; training for max_epochs={self.max_epochs} epochs "
                    f"without early stopping.",
                    SklearnTwoDBMWarning,
                    stacklevel=3,
                )
                validate = False

        with self._thread_limit(), _local_torch_seed(seed, device):
            net_input, extra_net_kwargs = self._training_input(X, y, X3)
            split = None
            if validate:
                split = _StratifiedValidSplit(self.validation_fraction, seed)
            net = self._make_net(
                **self._net_kwargs(
                    n_classes=len(self.classes_),
                    device=device,
                    class_weight=class_weight,
                    train_split=split,
                    callbacks=self._callbacks(validate),
                ),
                **extra_net_kwargs,
            )
            net.fit(net_input, y_encoded)

        self.net_ = net
        self.n_parameters_ = sum(p.numel() for p in net.module_.parameters())
        self._fit_architecture = {k: getattr(self, k) for k in ARCHITECTURE_PARAMS}
        return self

    def _training_input(self, X, y, X3):
        """What the skorch net is fitted on, and extra net arguments."""
        return X3, {}

    def _module_kwargs(self, n_classes):
        return {
            "module": AttentionBiLSTM,
            "module__n_features": self.n_flow_features_,
            "module__n_classes": n_classes,
            "module__hidden_size": self.hidden_size,
            "module__num_layers": self.num_layers,
            "module__dropout": self.dropout,
            "module__lstm_dropout": self.lstm_dropout,
            "module__attention_size": self.attention_size,
        }

    def _make_net(self, **kwargs):
        return _Net(**kwargs)

    def _net_kwargs(self, *, n_classes, device, class_weight, train_split, callbacks):
        return {
            **self._module_kwargs(n_classes),
            "criterion": nn.CrossEntropyLoss,
            "criterion__weight": class_weight,
            "optimizer": torch.optim.Adam,
            "lr": self.learning_rate,
            "optimizer__weight_decay": self.weight_decay,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "iterator_train__shuffle": True,
            "train_split": train_split,
            "callbacks": callbacks,
            "classes": list(range(n_classes)),
            "device": device,
            "verbose": int(self.verbose),
        }

    def _callbacks(self, validate):
        callbacks = []
        if validate:
            callbacks.append(
                (
                    "valid_bacc",
                    EpochScoring(
                        _valid_balanced_accuracy,
                        name="valid_bacc",
                        lower_is_better=False,
                    ),
                )
            )
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                    ),
                )
            )
        if self.progress_bar:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    # ---------------------------------------------------------- validation

    def _check_device(self):
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ValueError(
                f"device must name a torch device such as 'cpu' or 'cuda', got "
                f"{self.device!r}."
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested but CUDA is not available "
                f"on this machine (torch.cuda.is_available() is False). Use "
                f"device='cpu'."
            )
        return self.device if isinstance(self.device, str) else str(device)

    def _validate_training_data(self, X, y):
        X, window_from_input, input_is_3d = _flatten_input(X)
        X, y = validate_data(self, X, y, dtype=np.float32, copy=True)
        check_classification_targets(y)

        n_columns = X.shape[1]
        if self.window is not None:
            if input_is_3d and window_from_input != self.window:
                raise ValueError(
                    f"X is a 3-D array of windows of length {window_from_input}, "
                    f"but window={self.window}. Pass window=None to take the "
                    f"length from the array."
                )
            if n_columns % self.window:
                raise ValueError(
                    f"window={self.window} must divide the number of input "
                    f"columns, but X has {n_columns} columns. Pass window=None "
                    f"to infer the window from the column names (or use a 3-D "
                    f"array), or a window length that divides {n_columns}."
                )
            window = self.window
        elif window_from_input is not None:
            window = window_from_input
        else:
            window = 1
        self.window_ = window
        self.n_flow_features_ = n_columns // window

        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but "
                f"y contains only one class: {self.classes_[0]!r}."
            )
        X3 = X.reshape(X.shape[0], window, self.n_flow_features_)
        return X3, y_encoded.astype(np.int64)

    def _validate_prediction_data(self, X):
        """Check a prediction input against fit; return float32 windows."""
        check_is_fitted(self)
        self._check_architecture_unchanged()
        if getattr(X, "ndim", None) == 3 and not hasattr(X, "columns"):
            X = np.asarray(X)
            expected = (self.window_, self.n_flow_features_)
            if X.shape[1:] != expected:
                raise ValueError(
                    f"X is a 3-D array of shape {X.shape}, but "
                    f"{type(self).__name__} was fitted on windows of "
                    f"{self.window_} steps with {self.n_flow_features_} features "
                    f"each, i.e. shape (n_windows, {expected[0]}, {expected[1]})."
                )
            X = X.reshape(X.shape[0], -1)
        if _has_fitted_column_names(self, X):
            # sklearn's generic check walks every column's dtype, which costs
            # milliseconds per call on wide window frames; with the exact
            # fitted column names that walk proves nothing new.
            X = check_array(X.to_numpy(dtype=np.float32), dtype=np.float32)
        else:
            X = validate_data(self, X, reset=False, dtype=np.float32, copy=True)
        return X.reshape(X.shape[0], self.window_, self.n_flow_features_)

    def _check_architecture_unchanged(self):
        fitted = getattr(self, "_fit_architecture", None)
        if fitted is None:
            return
        changed = [
            f"{name}={getattr(self, name)!r} (fitted with {value!r})"
            for name, value in fitted.items()
            if getattr(self, name) != value
        ]
        if changed:
            raise NotFittedError(
                f"This {type(self).__name__} was fitted with a different "
                f"architecture than its current parameters: {', '.join(changed)}. "
                f"Call fit again, or set the parameters back, before predicting."
            )

    def _class_weight_tensor(self, y_encoded):
        if self.class_weight is None:
            return None
        n_classes = len(self.classes_)
        if isinstance(self.class_weight, str):
            weights = compute_class_weight(
                "balanced", classes=np.arange(n_classes), y=y_encoded
            )
        else:
            known = set(self.classes_.tolist())
            unknown = [key for key in self.class_weight if key not in known]
            if unknown:
                raise ValueError(
                    f"class_weight has keys {unknown!r} that are not labels of "
                    f"y; the labels are {self.classes_.tolist()!r}."
                )
            weights = [float(self.class_weight.get(c, 1.0)) for c in self.classes_]
        return torch.as_tensor(np.asarray(weights), dtype=torch.float32)

    # ----------------------------------------------------------- inference

    @contextlib.contextmanager
    def _thread_limit(self):
        if self.n_threads is None:
            yield
            return
        previous = torch.get_num_threads()
        torch.set_num_threads(self.n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _inference_batch_size(self):
        batch_size = self.batch_size
        if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(
                f"batch_size must be an int >= 1, got {batch_size!r}. It sets "
                f"how many windows are scored at once."
            )
        return int(batch_size)

    def _forward(self, X3):
        """Logits, attention weights and pooled vectors as NumPy arrays."""
        module = self.net_.module_
        device = self.net_.device
        batch_size = self._inference_batch_size()
        module.eval()
        chunks = []
        with self._thread_limit(), torch.no_grad():
            for start in range(0, X3.shape[0], batch_size):
                batch = X3[start : start + batch_size]
                if not batch.flags.writeable:
                    # torch.from_numpy warns on read-only memory (a DataFrame's
                    # values under copy-on-write); copying one batch is cheap.
                    batch = batch.copy()
                batch = torch.from_numpy(batch).to(device)
                outputs = module(batch, return_internals=True)
                chunks.append([out.cpu().numpy() for out in outputs])
        return tuple(np.concatenate(parts) for parts in zip(*chunks))

    def predict_proba(self, X):
        """Class probabilities of each window.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_windows, n_features_in_) \
                or (n_windows, window_, n_flow_features_)

        Returns
        -------
        proba : ndarray of shape (n_windows, n_classes), dtype float64
            Columns follow ``classes_``; rows sum to one.
        """
        logits, _, _ = self._forward(self._validate_prediction_data(X))
        return _softmax64(logits)

    def predict(self, X):
        """Predicted label of each window (the label of its last flow).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_windows, n_features_in_) \
                or (n_windows, window_, n_flow_features_)

        Returns
        -------
        y_pred : ndarray of shape (n_windows,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def attention_weights(self, X):
        """Attention weight of every time step of each window.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_windows, n_features_in_) \
                or (n_windows, window_, n_flow_features_)

        Returns
        -------
        weights : ndarray of shape (n_windows, window_), dtype float32
            Oldest step first; rows sum to one.
        """
        _, attention, _ = self._forward(self._validate_prediction_data(X))
        return attention

    # ------------------------------------------------------- net accessors

    @property
    def module_(self):
        """The fitted :class:`~sklearn_2dbm._modules.AttentionBiLSTM`."""
        return self.net_.module_

    @property
    def history_(self):
        """The skorch :class:`~skorch.history.History` of the training run."""
        return self.net_.history
