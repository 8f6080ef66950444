"""The teacher: a two-layer attention BiLSTM classifier."""

from sklearn.base import _fit_context

from ._base import BaseBiLSTMClassifier

__all__ = ["BiLSTMTeacherClassifier"]


class BiLSTMTeacherClassifier(BaseBiLSTMClassifier):
    """Stacked bidirectional LSTM with temporal attention over flow windows.

    Each sample is a window of consecutive flows; the label is the label of
    the window's last flow. The network reads the window step by step with
    ``num_layers`` stacked bidirectional LSTM layers, weighs the steps with a
    learned attention score, pools them and classifies the pooled vector
    with a linear layer. It is the teacher of
    :class:`DistilledStudentClassifier` but is a complete classifier on its
    own, for binary and multiclass targets.

    Training uses Adam on the (optionally class-weighted) cross-entropy, in
    a :class:`skorch.NeuralNetClassifier` built by ``fit``.

    Parameters
    ----------
    hidden_size : int, default=64
        Hidden units of each LSTM direction.
    num_layers : int, default=2
        Number of stacked bidirectional LSTM layers.
    attention_size : int, default=None
        Width of the attention scoring layer; ``None`` uses ``hidden_size``.
    dropout : float, default=0.2
        Dropout on the attention-pooled vector, before the linear head.
    lstm_dropout : float, default=0.0
        Dropout between stacked LSTM layers (only when ``num_layers > 1``).
        The default is zero because, on the CPU, any value above zero makes
        PyTorch leave its fused oneDNN LSTM kernel and training becomes about
        ten times slower; regularise with ``dropout`` and early stopping
        instead, or raise it when training on a GPU.
    window : int, default=None
        Window length. ``None`` infers it: from the column names of a
        :class:`FlowWindower` DataFrame (``t-{lag}__{feature}``), from the
        second axis of a 3-D array ``(n_windows, window, n_features)``, and
        otherwise 1 (each row is a sequence of one flow). An int splits each
        2-D row into ``window`` steps, oldest first; it must divide the
        number of columns. A NumPy array loses the window: keep pandas
        output (``set_output(transform="pandas")``) on the steps after
        :class:`FlowWindower`, or pass ``window=`` (see Notes).
    max_epochs : int, default=20
        Maximum number of passes over the training data.
    batch_size : int, default=256
        Windows per gradient step, and per forward pass at prediction time
        (changing it after fit does not change predictions).
    learning_rate : float, default=5e-3
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam weight decay (L2 penalty).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the cross-entropy. A dict is keyed by the
        original labels (missing labels weigh 1); "balanced" weighs classes
        inversely to their frequency.
    early_stopping : bool, default=True
        Hold out a stratified ``validation_fraction`` of the training rows,
        stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and restore the best epoch's weights.
        Classes with fewer than two rows stay in the training part.
    validation_fraction : float, default=0.1
        Share of each class held out when ``early_stopping=True``.
    n_iter_no_change : int, default=3
        Patience of early stopping, in epochs.
    device : str or torch.device, default="cpu"
        Where to train, e.g. "cpu" or "cuda". Requesting CUDA on a machine
        without it raises a ValueError at fit.
    n_threads : int, default=None
        Torch intra-op threads during fit and prediction (restored
        afterwards). ``None`` leaves torch's setting alone.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. Global NumPy and torch random states are left untouched.
    verbose : int, default=0
        0 prints nothing; 1 or more prints skorch's table of train loss,
        validation loss, validation balanced accuracy and duration per epoch.
    progress_bar : bool, default=False
        Show a batch progress bar per epoch (skorch ``ProgressBar``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in fit, in the order of ``predict_proba`` columns.
    n_features_in_ : int
        Number of columns of the 2-D input seen in fit (``window_ *
        n_flow_features_``; for 3-D input, the flattened width).
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of a DataFrame input, when they are all strings.
    window_ : int
        Window length used.
    n_flow_features_ : int
        Features per time step.
    net_ : skorch.NeuralNetClassifier
        The fitted skorch net.
    module_ : torch.nn.Module
        The fitted :class:`~sklearn_2dbm._modules.AttentionBiLSTM`
        (``net_.module_``).
    history_ : skorch.history.History
        Per-epoch record of the training run (``net_.history``).
    n_parameters_ : int
        Number of parameters of the network.

    See Also
    --------
    DistilledStudentClassifier : A smaller BiLSTM trained from this teacher.
    FlowWindower : Builds the windowed DataFrames this classifier reads.

    Notes
    -----
    The window is a sequence of flows, not of packets: the model sees only
    what the flow table shows. A window of flows sorted by label lets the
    model read a flow's label from its neighbours; check
    :func:`window_label_purity` before trusting scores.

    A pickled model keeps the device it was trained on; loading a CUDA model
    on a machine without CUDA maps it to the CPU with a
    :class:`skorch.exceptions.DeviceWarning`, and prediction then runs on the
    CPU whatever ``device`` says. Changing an architecture parameter
    (``hidden_size``, ``num_layers``, ``attention_size``, ``window``) on a
    fitted model makes ``predict`` raise
    :class:`~sklearn.exceptions.NotFittedError` until it is refitted.

    The window travels in the column names. A step between
    :class:`FlowWindower` and the classifier that returns a NumPy array (a
    scaler with the default output, say) drops them, and with
    ``window=None`` each row is then read as a single flow of
    ``n_features_in_`` features. The model still trains, on the wrong
    shape, and no warning can tell this apart from a plain flow table. Keep
    pandas output on those steps (``set_output(transform="pandas")``) or
    pass ``window=``; ``window_`` records the length used.

    In joblib's process workers (``GridSearchCV(n_jobs=2)`` and the like)
    joblib limits each worker's threads before torch starts (to the number
    of cores divided by ``n_jobs``), so the workers do not oversubscribe the
    cores; ``n_threads`` sets the count explicitly.
    ``sample_weight`` is not supported; use ``class_weight``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm import BiLSTMTeacherClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 4, 3))  # 60 windows of 4 flows, 3 features each
    >>> y = np.where(X[:, -1, 0] > 0, "attack", "normal")
    >>> clf = BiLSTMTeacherClassifier(hidden_size=8, max_epochs=2, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
    >>> clf.classes_.tolist(), clf.window_
    (['attack', 'normal'], 4)
    """

    def __init__(
        self,
        *,
        hidden_size=64,
        num_layers=2,
        attention_size=None,
        dropout=0.2,
        lstm_dropout=0.0,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.attention_size = attention_size
        self.dropout = dropout
        self.lstm_dropout = lstm_dropout
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network on windows ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_windows, n_columns) or \
                (n_windows, window, n_features)
            Windows: a :class:`FlowWindower` DataFrame, a 3-D array, or a
            2-D table (see ``window``). Any numeric or boolean dtype; the
            data are copied to float32.
        y : array-like of shape (n_windows,)
            Labels (strings or ints), at least two classes.

        Returns
        -------
        self : BiLSTMTeacherClassifier
            The fitted classifier.
        """
        return self._fit(X, y)
