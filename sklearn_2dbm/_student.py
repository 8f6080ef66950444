"""The student: a small attention BiLSTM distilled from the teacher."""

import numbers
from collections.abc import Mapping

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import PassthroughScoring
from skorch.utils import to_tensor
from torch import nn

from ._base import BaseBiLSTMClassifier, _Net
from ._distill import distillation_loss
from ._teacher import BiLSTMTeacherClassifier

__all__ = ["DistilledStudentClassifier"]

_TEACHER_KEYS = ("teacher_logits", "teacher_attention", "teacher_pooled")
_LOSS_TERMS = ("hard", "soft", "intermediate")

# Training settings a default teacher (teacher=None) copies from the student.
_SHARED_TRAINING_PARAMS = (
    "window",
    "max_epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "class_weight",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "device",
    "n_threads",
    "random_state",
    "verbose",
    "progress_bar",
)


class _DistillNet(_Net):
    """skorch net trained on the dual distillation loss.

    It is fitted on a dict ``{"X": windows, "teacher_logits": ...,
    "teacher_attention": ..., "teacher_pooled": ...}``; skorch slices the dict
    entries together (batches, shuffling and the validation split), so each
    window stays with its teacher outputs. ``projection_`` maps the student's
    pooled vector to the teacher's size; it is trained with the student and
    unused at inference.
    """

    def __init__(
        self,
        *args,
        teacher_pooled_size,
        temperature,
        hard_weight,
        soft_weight,
        intermediate_weight,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.teacher_pooled_size = teacher_pooled_size
        self.temperature = temperature
        self.hard_weight = hard_weight
        self.soft_weight = soft_weight
        self.intermediate_weight = intermediate_weight

    def initialize_module(self):
        super().initialize_module()
        self.projection_ = nn.Linear(self.module_.pooled_size, self.teacher_pooled_size)
        return self

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping):
            windows = to_tensor(x["X"], device=self.device)
            return self.module_(windows, return_internals=True)
        return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if not isinstance(y_pred, tuple):
            return super().get_loss(y_pred, y_true, X=X, training=training)
        logits, attention, pooled = y_pred
        teacher = {key: to_tensor(X[key], device=self.device) for key in _TEACHER_KEYS}
        loss, terms = distillation_loss(
            logits,
            to_tensor(y_true, device=self.device),
            teacher["teacher_logits"],
            attention,
            teacher["teacher_attention"],
            self.projection_(pooled),
            teacher["teacher_pooled"],
            temperature=self.temperature,
            hard_weight=self.hard_weight,
            soft_weight=self.soft_weight,
            intermediate_weight=self.intermediate_weight,
            class_weight=self.criterion_.weight,
            return_terms=True,
        )
        if training:
            for name, value in terms.items():
                self.history.record_batch(f"{name}_loss", value.item())
        return loss


class DistilledStudentClassifier(BaseBiLSTMClassifier):
    """Small attention BiLSTM trained to imitate a :class:`BiLSTMTeacherClassifier`.

    The student has the teacher's design (bidirectional LSTM, temporal
    attention, linear head) with far fewer units. It learns from the true
    labels and from the teacher at once, through a dual distillation loss:
    the teacher's softened class probabilities (output level) and the
    teacher's attention weights and pooled representation (intermediate
    level). At inference only the student runs.

    Parameters
    ----------
    teacher : BiLSTMTeacherClassifier, FrozenEstimator or None, default=None
        The teacher. ``None`` trains a default
        :class:`BiLSTMTeacherClassifier` that copies the student's training
        settings (``window``, ``max_epochs``, ``batch_size``,
        ``learning_rate``, ``weight_decay``, ``class_weight``, early
        stopping, ``device``, ``n_threads``, ``random_state``, ``verbose``,
        ``progress_bar``). An unfitted or fitted teacher is cloned and
        fitted on the student's training data; if its ``random_state`` is
        None, the clone takes the student's, so a seeded student is
        reproducible as a whole. To reuse an already fitted teacher without
        refitting it, wrap it in :class:`sklearn.frozen.FrozenEstimator`.
    hidden_size : int, default=12
        Hidden units of each LSTM direction.
    num_layers : int, default=1
        Number of stacked bidirectional LSTM layers.
    attention_size : int, default=None
        Width of the attention scoring layer; ``None`` uses ``hidden_size``.
    dropout : float, default=0.1
        Dropout on the attention-pooled vector, before the linear head.
    lstm_dropout : float, default=0.0
        Dropout between stacked LSTM layers (only when ``num_layers > 1``).
        The default is zero because, on the CPU, any value above zero makes
        PyTorch leave its fused oneDNN LSTM kernel and training becomes about
        ten times slower; regularise with ``dropout`` and early stopping
        instead, or raise it when training on a GPU.
    temperature : float, default=4.0
        Softening temperature of the soft-label term, > 0.
    hard_weight : float, default=0.5
        Weight of the cross-entropy against the true labels.
    soft_weight : float, default=0.5
        Weight of the soft-label (KL divergence) term.
    intermediate_weight : float, default=1.0
        Weight of the intermediate term (attention and pooled vector).
    window : int, default=None
        Window length; see :class:`BiLSTMTeacherClassifier`. Teacher and
        student must read windows of the same length and width. A NumPy
        array loses the window: keep pandas output
        (``set_output(transform="pandas")``) on the steps after
        :class:`FlowWindower`, or pass ``window=`` (see Notes).
    max_epochs : int, default=20
        Maximum number of passes over the training data.
    batch_size : int, default=256
        Windows per gradient step and per forward pass at prediction time.
    learning_rate : float, default=5e-3
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam weight decay.
    class_weight : dict, "balanced" or None, default=None
        Class weights of the hard-label term (only there); a dict is keyed
        by the original labels.
    early_stopping : bool, default=True
        Stop on the validation distillation loss of a stratified held-out
        split and restore the best epoch's weights.
    validation_fraction : float, default=0.1
        Share of each class held out when ``early_stopping=True``.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs.
    device : str or torch.device, default="cpu"
        Where to train.
    n_threads : int, default=None
        Torch intra-op threads during fit and prediction.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, shuffling and the validation split;
        global random states are left untouched.
    verbose : int, default=0
        0 prints nothing; 1 or more prints the epoch table, with the three
        loss terms of the training batches.
    progress_bar : bool, default=False
        Show a batch progress bar per epoch.

    Attributes
    ----------
    teacher_ : BiLSTMTeacherClassifier
        The fitted teacher, always unwrapped: for a
        :class:`~sklearn.frozen.FrozenEstimator` teacher, the estimator it
        wraps (the very object, not a copy).
    classes_ : ndarray of shape (n_classes,)
        The labels seen in fit.
    n_features_in_ : int
        Number of columns of the 2-D input seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame input, when they are all strings.
    window_ : int
        Window length used.
    n_flow_features_ : int
        Features per time step.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net; ``net_.projection_`` is the training-only
        projection of the pooled vector.
    module_ : torch.nn.Module
        The fitted student :class:`~sklearn_2dbm._modules.AttentionBiLSTM`.
    history_ : skorch.history.History
        Per-epoch record, including ``hard_loss``, ``soft_loss`` and
        ``intermediate_loss`` of the training batches.
    n_parameters_ : int
        Parameters used at inference (the projection excluded).

    See Also
    --------
    BiLSTMTeacherClassifier : The teacher.
    save_weights : Saves the student alone, without its teacher.

    Notes
    -----
    The loss is ``hard_weight * hard + soft_weight * soft +
    intermediate_weight * intermediate`` where

    - ``hard`` is the cross-entropy of the student against the true labels,
      with ``class_weight``;
    - ``soft`` is ``KL(p_teacher || p_student)`` of the class probabilities
      softened by ``temperature``, averaged over windows and multiplied by
      ``temperature ** 2``;
    - ``intermediate`` is the mean squared error between the student's and
      the teacher's attention weights over the time steps, plus the mean
      squared error between the teacher's pooled vector and the student's
      pooled vector mapped to the teacher's size by a learned linear
      projection (trained jointly, dropped at inference).

    The teacher's outputs are computed once for every training window
    before the student trains, with the teacher in evaluation mode and no
    gradients; its weights never change. This costs ``n_windows * (n_classes
    + window + 2 * teacher hidden size)`` floats of memory. Labels are
    matched by value: a student label the teacher never saw raises a
    ValueError, and teacher classes absent from the student's data are
    dropped from its logits, which renormalises its probabilities over the
    remaining classes. With ``window=1`` the attention weights are always 1
    and the attention part of the intermediate term is zero.

    The default student has at most a fifth of the default teacher's
    parameters for any number of features. It is no better than its
    teacher: a teacher that overfits the flows' ordering passes that on.

    The window travels in the column names of :class:`FlowWindower`'s
    output. A step in between that returns a NumPy array drops them, and
    with ``window=None`` each row is then read as a single flow; nothing
    can tell this apart from a plain flow table, so no warning is given.
    Keep pandas output on those steps or pass ``window=``; ``window_``
    records the length used.

    A pickled student carries its teacher: the ``teacher`` parameter (for
    example a :class:`~sklearn.frozen.FrozenEstimator`) and ``teacher_``
    are part of the estimator, as for any scikit-learn meta-estimator. To
    ship the student alone, save it with :func:`save_weights`; the file
    holds only the student's network and :func:`load_weights` gives back a
    student that predicts the same, with ``teacher=None`` and no
    ``teacher_``. Refitting that student trains a new default teacher.

    Threads in joblib's process workers are limited as described in
    :class:`BiLSTMTeacherClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import BiLSTMTeacherClassifier, DistilledStudentClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(80, 4, 3))  # 80 windows of 4 flows, 3 features each
    >>> y = (X[:, -1, 0] > 0).astype(int)
    >>> teacher = BiLSTMTeacherClassifier(hidden_size=8, max_epochs=2)
    >>> student = DistilledStudentClassifier(teacher, hidden_size=4, max_epochs=2,
    ...                                      random_state=0)
    >>> student.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> student.n_parameters_ < student.teacher_.n_parameters_
    True
    """

    _parameter_constraints = {
        **BaseBiLSTMClassifier._parameter_constraints,
        "teacher": [None, HasMethods(["fit", "predict_proba"])],
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "hard_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "soft_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "intermediate_weight": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        teacher=None,
        *,
        hidden_size=12,
        num_layers=1,
        attention_size=None,
        dropout=0.1,
        lstm_dropout=0.0,
        temperature=4.0,
        hard_weight=0.5,
        soft_weight=0.5,
        intermediate_weight=1.0,
        window=None,
        max_epochs=20,
        batch_size=256,
        learning_rate=5e-3,
        weight_decay=0.0,
        class_weight=None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=3,
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=0,
        progress_bar=False,
    ):
        self.teacher = teacher
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.attention_size = attention_size
        self.dropout = dropout
        self.lstm_dropout = lstm_dropout
        self.temperature = temperature
        self.hard_weight = hard_weight
        self.soft_weight = soft_weight
        self.intermediate_weight = intermediate_weight
        self.window = window
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.progress_bar = progress_bar

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit (or take) the teacher, then distil it into the student.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_windows, n_columns) or \
                (n_windows, window, n_features)
            Windows; see :meth:`BiLSTMTeacherClassifier.fit`.
        y : array-like of shape (n_windows,)
            Labels, at least two classes, all known to the teacher.

        Returns
        -------
        self : DistilledStudentClassifier
            The fitted student.
        """
        return self._fit(X, y)

    def _fitted_teacher(self, X, y):
        teacher = self.teacher
        frozen = isinstance(teacher, FrozenEstimator)
        candidate = teacher.estimator if frozen else teacher
        if candidate is not None and not isinstance(candidate, BiLSTMTeacherClassifier):
            raise TypeError(
                f"teacher must be a BiLSTMTeacherClassifier (optionally wrapped "
                f"in FrozenEstimator) or None, got {type(candidate).__name__}. "
                f"The student distils the teacher's attention and pooled "
                f"vector, which other classifiers do not have."
            )
        if frozen:
            check_is_fitted(
                candidate,
                msg="The teacher wrapped in FrozenEstimator is not fitted; fit "
                "it first, or pass it unwrapped to have the student fit it.",
            )
            return candidate
        if teacher is None:
            shared = {name: getattr(self, name) for name in _SHARED_TRAINING_PARAMS}
            return BiLSTMTeacherClassifier(**shared).fit(X, y)
        teacher = clone(teacher)
        if teacher.random_state is None:
            teacher.set_params(random_state=self.random_state)
        return teacher.fit(X, y)

    def _training_input(self, X, y, X3):
        teacher = self._fitted_teacher(X, y)
        self.teacher_ = teacher

        if (teacher.window_, teacher.n_flow_features_) != (
            self.window_,
            self.n_flow_features_,
        ):
            raise ValueError(
                f"The teacher reads windows of {teacher.window_} steps with "
                f"{teacher.n_flow_features_} features, but the student's input "
                f"has {self.window_} steps with {self.n_flow_features_} "
                f"features. Give both the same window (or refit the teacher)."
            )
        teacher_names = getattr(teacher, "feature_names_in_", None)
        student_names = getattr(self, "feature_names_in_", None)
        if (
            teacher_names is not None
            and student_names is not None
            and not np.array_equal(teacher_names, student_names)
        ):
            raise ValueError(
                "The teacher was fitted on different columns than the student "
                f"receives: only in the teacher's "
                f"{sorted(set(teacher_names) - set(student_names))}, only in the "
                f"student's {sorted(set(student_names) - set(teacher_names))} "
                "(or the same columns in another order)."
            )

        teacher_labels = {label: i for i, label in enumerate(teacher.classes_.tolist())}
        student_labels = self.classes_.tolist()
        unknown = [label for label in student_labels if label not in teacher_labels]
        if unknown:
            raise ValueError(
                f"The student's training labels {unknown!r} are not classes of "
                f"the teacher, which knows {teacher.classes_.tolist()!r}. Fit "
                f"the teacher on data with these labels."
            )
        columns = [teacher_labels[label] for label in student_labels]

        logits, attention, pooled = teacher._forward(X3)
        net_input = {
            "X": X3,
            "teacher_logits": np.ascontiguousarray(logits[:, columns]),
            "teacher_attention": attention,
            "teacher_pooled": pooled,
        }
        net_kwargs = {
            "teacher_pooled_size": teacher.module_.pooled_size,
            "temperature": self.temperature,
            "hard_weight": self.hard_weight,
            "soft_weight": self.soft_weight,
            "intermediate_weight": self.intermediate_weight,
        }
        return net_input, net_kwargs

    def _make_net(self, **kwargs):
        return _DistillNet(**kwargs)

    def _callbacks(self, validate):
        terms = [
            (f"{term}_loss", PassthroughScoring(name=f"{term}_loss", on_train=True))
            for term in _LOSS_TERMS
        ]
        return terms + super()._callbacks(validate)
