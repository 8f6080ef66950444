"""The main job: train the teacher, distil the student, compare, report.

:func:`run_main_job` is what ``sklearn-2dbm run`` executes. It loads a
dataset with the library's loaders, splits it under one of three evaluation
protocols, trains the BiLSTM teacher once, distils the student from the
fitted (frozen) teacher, trains a gradient-boosting baseline on the same
split, and writes the fitted pipelines, a JSON and a Markdown report and PNG
figures to an output folder.
"""

import io
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from . import _plots, _report
from ._version import __version__
from .exceptions import UnknownCategoryWarning

__all__ = [
    "PRESETS",
    "PROTOCOLS",
    "DATASETS",
    "JobConfig",
    "InputError",
    "run_main_job",
]

DATASETS = ("unsw-nb15", "cic-ids2017")
PROTOCOLS = ("dedup-split", "random-split", "file-order")
TARGETS = ("binary", "category")

PRESETS = {
    "quick": {
        "max_rows": 5000,
        "epochs": 12,
        "window": 4,
        "teacher_hidden": 32,
        "student_hidden": 16,
        "latency_calls": 30,
    },
    "readme": {
        "max_rows": None,
        "epochs": 5,
        "window": 8,
        "teacher_hidden": 64,
        "student_hidden": 32,
        "latency_calls": 200,
    },
    "default": {
        "max_rows": None,
        "epochs": 12,
        "window": 8,
        "teacher_hidden": 64,
        "student_hidden": 32,
        "latency_calls": 200,
    },
}
"""Settings of each ``--preset``; explicit overrides take precedence."""

PROTOCOL_DESCRIPTIONS = {
    "dedup-split": (
        "Stratified train/test split in which exact duplicate flows never fall "
        "on both sides (dedup_train_test_split). Windows are built inside each "
        "side only. The files give no usable flow order (the UNSW-NB15 "
        "partitions have no timestamp or host column, and the rows are sorted "
        "in long runs of one label), so within each side the rows are put in a "
        "seeded random order before windowing. The context flows of a window "
        "therefore carry no label information, and the numbers measure "
        "per-flow detection with a sequence model."
    ),
    "random-split": (
        "Plain stratified split of rows, ignoring duplicates. Windows are built "
        "inside each side, in file order. Test rows that have an exact "
        "duplicate in the training rows are scored on flows the model has "
        "seen; their share is reported below."
    ),
    "file-order": (
        "Windows over consecutive rows of the whole file in file order, then a "
        "stratified split of the windows, as many papers do. Neighbouring "
        "windows share flows across the split and the file is sorted in long "
        "runs of one label, so the numbers measure the file's ordering, not "
        "detection."
    ),
}


class InputError(ValueError):
    """A user mistake: bad option, missing data, unreadable or mismatched file.

    The command-line interface turns it into a one-line error message and
    exit status 2.
    """


@dataclass
class JobConfig:
    """Settings of one main-job run.

    Parameters
    ----------
    dataset : {"unsw-nb15", "cic-ids2017"}, default="unsw-nb15"
        Dataset to load with the library's loaders.
    protocol : {"dedup-split", "random-split", "file-order"}, default="dedup-split"
        Evaluation protocol (see the module documentation).
    target : {"binary", "category"}, default="binary"
        Attack-versus-normal, or one class per attack category.
    preset : {"quick", "readme", "default"}, default="default"
        Named settings for rows, epochs, window and sizes.
    epochs, window, teacher_hidden, student_hidden, max_rows : int, default=None
        Overrides of the preset. ``max_rows=0`` means every row.
    seed : int, default=0
        Seed of the subsample, the split, the row order and the networks.
    output : str or path-like, default="runs/main"
        Output folder, created if needed.
    data_home : str or path-like, default=None
        Data folder; ``SKLEARN_2DBM_DATA`` when None.
    test_size : float, default=0.25
        Share of rows (or windows for ``file-order``) used for testing.
    latency_calls : int, default=None
        Number of single-flow calls timed per model; from the preset if None.
    threads : int, default=1
        Torch threads of the networks. One thread is the fastest setting for
        these small LSTMs on a shared machine; more help only on idle cores.

    Examples
    --------
    >>> from sklearn_2dbm._main_job import PRESETS, JobConfig
    >>> settings = JobConfig(preset="quick", epochs=3).resolved()
    >>> settings["epochs"], settings["window"] == PRESETS["quick"]["window"]
    (3, True)
    """

    dataset: str = "unsw-nb15"
    protocol: str = "dedup-split"
    target: str = "binary"
    preset: str = "default"
    epochs: int | None = None
    window: int | None = None
    teacher_hidden: int | None = None
    student_hidden: int | None = None
    max_rows: int | None = None
    seed: int = 0
    output: str = "runs/main"
    data_home: str | None = None
    test_size: float = 0.25
    latency_calls: int | None = None
    threads: int = 1

    def resolved(self):
        """Return the settings with the preset filled in and checked.

        Returns
        -------
        settings : dict
            Every field, with ``None`` overrides replaced by preset values.

        Raises
        ------
        InputError
            If a choice or a number is out of range.
        """
        for name, allowed in (
            ("dataset", DATASETS),
            ("protocol", PROTOCOLS),
            ("target", TARGETS),
            ("preset", tuple(PRESETS)),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise InputError(
                    f"unknown {name} {value!r}; choose one of {', '.join(allowed)}"
                )
        settings = asdict(self)
        for key, value in PRESETS[self.preset].items():
            if settings.get(key) is None:
                settings[key] = value
        if settings["max_rows"] == 0:
            settings["max_rows"] = None
        for key in ("epochs", "window", "teacher_hidden", "student_hidden", "threads"):
            if int(settings[key]) < 1:
                raise InputError(
                    f"--{key.replace('_', '-')} must be >= 1, got {settings[key]}"
                )
        if settings["max_rows"] is not None and settings["max_rows"] < 100:
            raise InputError(
                f"--max-rows must be 0 (all rows) or >= 100, got {settings['max_rows']}"
            )
        if not 0.0 < float(settings["test_size"]) < 1.0:
            raise InputError(
                f"test size must be in (0, 1), got {settings['test_size']}"
            )
        return settings


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load_flows(dataset, *, data_home=None, target="binary"):
    """Load a dataset as raw flows, target, attack categories and metadata.

    Parameters
    ----------
    dataset : {"unsw-nb15", "cic-ids2017"}
        Which loader to call.
    data_home : str or path-like, default=None
        Data folder; ``SKLEARN_2DBM_DATA`` when None.
    target : {"binary", "category"}, default="binary"
        Target of the returned ``y``.

    Returns
    -------
    flows : dict
        ``X`` (DataFrame of raw flow features, file order), ``y`` (ndarray),
        ``categories`` (ndarray of attack category names), ``normal_category``,
        ``normal_label`` (the value of ``y`` for benign flows), ``load_report``
        (dict) and ``source`` (str).

    Raises
    ------
    InputError
        When the data folder or files are missing or unreadable; the message
        is the loader's.
    """
    from . import datasets

    loader = {
        "unsw-nb15": datasets.load_unsw_nb15,
        "cic-ids2017": datasets.load_cic_ids2017,
    }[dataset]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bunch = loader(data_home=data_home, target="category")
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(str(exc)) from exc

    X = bunch.data.reset_index(drop=True)
    categories = np.asarray(bunch.target, dtype=object).astype(str)
    normal_category = _normal_category(categories, dataset)
    attack = categories != normal_category
    if target == "binary":
        y = attack.astype(np.int64)
        normal_label = 0
    else:
        y = categories
        normal_label = normal_category
    report = getattr(bunch, "load_report", None)
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    return {
        "X": X,
        "y": y,
        "categories": categories,
        "normal_category": normal_category,
        "normal_label": normal_label,
        "load_report": report,
        "loader_warnings": [str(w.message) for w in caught],
        "source": dataset,
    }


def _normal_category(categories, dataset):
    for candidate in ("Normal", "BENIGN", "normal", "benign", "Benign"):
        if np.any(categories == candidate):
            return candidate
    raise InputError(
        f"the {dataset} data has no benign flows (no 'Normal' or 'BENIGN' "
        "label), so false-positive rates cannot be measured"
    )


def stratified_subsample(n_rows, strata, max_rows, *, random_state):
    """Pick ``max_rows`` row positions, stratified by ``strata``, in file order.

    Parameters
    ----------
    n_rows : int
        Number of rows available.
    strata : array-like of shape (n_rows,)
        Labels to keep in proportion (attack categories).
    max_rows : int or None
        Rows to keep; all when None or >= ``n_rows``.
    random_state : int
        Seed.

    Returns
    -------
    positions : ndarray of int
        Sorted row positions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm._main_job import stratified_subsample
    >>> strata = np.array(["a"] * 80 + ["b"] * 20)
    >>> keep = stratified_subsample(100, strata, 10, random_state=0)
    >>> len(keep), int((strata[keep] == "b").sum())
    (10, 2)
    """
    positions = np.arange(n_rows)
    if max_rows is None or max_rows >= n_rows:
        return positions
    strata = np.asarray(strata)
    values, counts = np.unique(strata, return_counts=True)
    # Classes too rare to stratify are kept whole rather than dropped.
    rare = np.isin(strata, values[counts < 2])
    keep_rare = positions[rare]
    n_left = max_rows - len(keep_rare)
    common = positions[~rare]
    kept, _ = train_test_split(
        common,
        train_size=n_left,
        stratify=strata[common],
        random_state=random_state,
    )
    return np.sort(np.concatenate([keep_rare, kept]))


# --------------------------------------------------------------------------
# Protocols
# --------------------------------------------------------------------------


def split_for_protocol(protocol, X, y, *, window, test_size, random_state):
    """Decide which rows train and test, and in which order they are windowed.

    Parameters
    ----------
    protocol : {"dedup-split", "random-split", "file-order"}
        Evaluation protocol.
    X : DataFrame of shape (n_rows, n_features)
        Raw flows in file order, with a default RangeIndex.
    y : ndarray of shape (n_rows,)
        Target used for stratification.
    window : int
        Window length (for the purity figures).
    test_size : float
        Share of rows (windows for ``file-order``) in the test set.
    random_state : int
        Seed.

    Returns
    -------
    split : dict
        ``train`` and ``test`` (row positions, in windowing order for the
        split protocols; window end positions for ``file-order``),
        ``windowing`` (``"per-side"`` or ``"whole-file"``) and ``figures``
        (duplicate overlap and label purity of the windows).
    """
    from ._protocols import (
        dedup_train_test_split,
        duplicate_overlap,
        window_label_purity,
    )

    rng = np.random.default_rng(random_state)
    positions = np.arange(len(X))
    figures = {}
    if protocol == "dedup-split":
        X_train, X_test, _, _ = dedup_train_test_split(
            X, y, test_size=test_size, random_state=random_state
        )
        train = rng.permutation(X_train.index.to_numpy())
        test = rng.permutation(X_test.index.to_numpy())
        windowing = "per-side"
    else:
        train, test = _stratified_split(positions, y, test_size, random_state)
        windowing = "per-side" if protocol == "random-split" else "whole-file"

    figures["duplicate_overlap"] = float(duplicate_overlap(X.iloc[train], X.iloc[test]))
    if windowing == "per-side":
        figures["window_label_purity_train"] = window_label_purity(y[train], window)
        figures["window_label_purity_test"] = window_label_purity(y[test], window)
    else:
        figures["window_label_purity"] = window_label_purity(y, window)
    shuffled = rng.permutation(y)
    figures["window_label_purity_shuffled_reference"] = window_label_purity(
        shuffled, window
    )
    figures["label_changes_in_file_order"] = int(np.count_nonzero(y[1:] != y[:-1]))
    return {"train": train, "test": test, "windowing": windowing, "figures": figures}


def _stratified_split(positions, y, test_size, random_state):
    """Stratified split of positions; classes of one row stay in training."""
    values, counts = np.unique(y, return_counts=True)
    rare = np.isin(y, values[counts < 2])
    train, test = train_test_split(
        positions[~rare],
        test_size=test_size,
        stratify=y[~rare],
        random_state=random_state,
    )
    return np.sort(np.concatenate([train, positions[rare]])), np.sort(test)


def _protocol_section(protocol, split, *, window, n_rows):
    figures = split["figures"]
    notes, warnings_ = [], []
    notes.append(
        f"in file order the target changes {figures['label_changes_in_file_order']:,} "
        f"times over {n_rows:,} rows"
    )
    overlap = figures["duplicate_overlap"]
    notes.append(
        f"duplicate overlap: {100 * overlap:.2f}% of test rows have an exact "
        "duplicate among the training rows"
    )
    reference = figures["window_label_purity_shuffled_reference"]
    if split["windowing"] == "per-side":
        notes.append(
            f"label purity of windows of {window} flows: "
            f"{_fmt_pct(figures['window_label_purity_train'])} (train), "
            f"{_fmt_pct(figures['window_label_purity_test'])} (test); "
            f"{_fmt_pct(reference)} expected for rows in random order"
        )
    else:
        notes.append(
            f"label purity of windows of {window} flows over the whole file: "
            f"{_fmt_pct(figures['window_label_purity'])}; "
            f"{_fmt_pct(reference)} expected for rows in random order"
        )
    if protocol == "dedup-split":
        notes.append(
            "rows were put in a seeded random order within each side before "
            "windowing: context flows carry no label information"
        )
    if protocol == "random-split" and overlap > 0:
        warnings_.append(
            f"{100 * overlap:.1f}% of the test rows are exact copies of training "
            "rows: this protocol scores the model partly on flows it was trained on"
        )
    if protocol == "file-order":
        warnings_.append(
            f"{_fmt_pct(figures['window_label_purity'])} of the windows hold flows "
            "of a single label, and neighbouring windows share flows across the "
            "split: these numbers measure the file's ordering, not detection"
        )
    return {
        "name": protocol,
        "description": PROTOCOL_DESCRIPTIONS[protocol],
        "windowing": split["windowing"],
        "figures": figures,
        "notes": notes,
        "warnings": warnings_,
    }


def _fmt_pct(value):
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{100 * value:.1f}%"


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


def make_preprocessor():
    """Return the flow preprocessing step shared by every pipeline.

    Returns
    -------
    preprocessor : FlowPreprocessor
        Unfitted.
    """
    from ._preprocessing import FlowPreprocessor

    return FlowPreprocessor()


def make_windower(window):
    """Return the windowing step.

    Parameters
    ----------
    window : int
        Flows per window.

    Returns
    -------
    windower : FlowWindower
        Unfitted.
    """
    from ._windowing import FlowWindower

    return FlowWindower(window=window)


def make_teacher(*, hidden, epochs, random_state, threads=1, progress=False):
    """Return an unfitted BiLSTM teacher with the job's settings.

    Parameters
    ----------
    hidden : int
        Hidden units per LSTM direction.
    epochs : int
        Training epochs.
    random_state : int
        Seed.
    threads : int, default=1
        Torch threads while training and predicting.
    progress : bool, default=False
        Whether to show a progress bar while training.

    Returns
    -------
    teacher : BiLSTMTeacherClassifier
    """
    from ._teacher import BiLSTMTeacherClassifier

    return BiLSTMTeacherClassifier(
        hidden_size=hidden,
        max_epochs=epochs,
        n_threads=threads,
        random_state=random_state,
        progress_bar=progress,
    )


def make_student(teacher, *, hidden, epochs, random_state, threads=1, progress=False):
    """Return an unfitted student distilled from a fitted, frozen teacher.

    Parameters
    ----------
    teacher : fitted BiLSTMTeacherClassifier
        Wrapped in :class:`sklearn.frozen.FrozenEstimator` so that fitting
        the student never refits it.
    hidden : int
        Hidden units of the student.
    epochs : int
        Training epochs.
    random_state : int
        Seed.
    threads : int, default=1
        Torch threads while training and predicting.
    progress : bool, default=False
        Whether to show a progress bar while training.

    Returns
    -------
    student : DistilledStudentClassifier
    """
    from sklearn.frozen import FrozenEstimator

    from ._student import DistilledStudentClassifier

    return DistilledStudentClassifier(
        teacher=FrozenEstimator(teacher),
        hidden_size=hidden,
        max_epochs=epochs,
        n_threads=threads,
        random_state=random_state,
        progress_bar=progress,
    )


def make_baseline(random_state):
    """Return the gradient-boosting baseline on per-flow features.

    Parameters
    ----------
    random_state : int
        Seed.

    Returns
    -------
    baseline : HistGradientBoostingClassifier

    Notes
    -----
    A smaller learning rate and some L2 regularisation than scikit-learn's
    defaults: with many classes, some of a few dozen rows, and no early
    stopping (off below 10,000 rows), the defaults can diverge and fit even
    the training data badly, which would make the baseline look weaker than
    it is.
    """
    return HistGradientBoostingClassifier(
        learning_rate=0.05, l2_regularization=1.0, random_state=random_state
    )


# --------------------------------------------------------------------------
# The job
# --------------------------------------------------------------------------


class _Steps:
    """A progress bar over the named steps of the job."""

    def __init__(self, names, *, enabled, stream):
        from tqdm.auto import tqdm

        self._bar = tqdm(
            total=len(names),
            disable=not enabled,
            file=stream,
            unit="step",
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}]",
        )
        self.times = {}
        self._name = None
        self._start = None

    def start(self, name):
        self._finish()
        self._name, self._start = name, time.perf_counter()
        self._bar.set_description(name)

    def _finish(self):
        if self._name is not None:
            self.times[self._name] = time.perf_counter() - self._start
            self._bar.update(1)
            self._name = None

    def close(self):
        self._finish()
        self._bar.close()


def _predict_attack(estimator, X, normal_label):
    pred = np.asarray(estimator.predict(X))
    return pred, pred.astype(str) != str(normal_label)


def run_main_job(config, *, progress=True, stream=None):
    """Run the main job and write its outputs.

    Parameters
    ----------
    config : JobConfig
        Settings of the run.
    progress : bool, default=True
        Whether to show progress bars.
    stream : file-like, default=None
        Where progress bars go; ``sys.stderr`` when None.

    Returns
    -------
    report : dict
        The content of ``report.json``.

    Raises
    ------
    InputError
        For bad settings or missing or unreadable data.
    """
    stream = sys.stderr if stream is None else stream
    settings = config.resolved()
    output = Path(settings["output"])
    _check_output_folder(output)
    wall_start = time.perf_counter()

    steps = _Steps(
        [
            "load data",
            "split",
            "preprocess and window",
            "train teacher",
            "distil student",
            "train baseline",
            "evaluate",
            "time predictions",
            "write outputs",
        ],
        enabled=progress,
        stream=stream,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # One limit for every native thread pool (OpenMP of the gradient
            # boosting, BLAS): oversubscribed pools on a busy machine make
            # fits and single-flow timings many times slower.
            with threadpool_limits(limits=int(settings["threads"])):
                report, artefacts = _run_steps(settings, steps, progress)
        finally:
            steps.close()

        steps_start = time.perf_counter()
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create output folder {str(output)!r}: {exc}"
            ) from exc
        files = _write_outputs(report, artefacts, output, settings)
        steps.times["write outputs"] = time.perf_counter() - steps_start
    report["warnings_raised"] = _summarise_warnings(caught)
    report["files"] = ["report.json", "report.md", *files]
    report["timing"] = {
        **{name: seconds for name, seconds in steps.times.items()},
        "total": time.perf_counter() - wall_start,
    }
    _report.atomic_write_json(output / "report.json", report)
    _report.atomic_write_text(output / "report.md", _report.render_markdown(report))
    return report


def _check_output_folder(output):
    """Fail early, before any training, if ``output`` cannot be written."""
    if output.exists() and not output.is_dir():
        raise InputError(f"--output {str(output)!r} exists and is not a folder")
    existing = output
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"cannot write the output folder {str(output)!r}: {str(existing)!r} "
            "is not a writable folder"
        )


def _summarise_warnings(caught):
    summary = {}
    for item in caught:
        key = (item.category.__name__, str(item.message).split(". ")[0])
        if key not in summary:
            summary[key] = {
                "category": item.category.__name__,
                "message": " ".join(str(item.message).split()),
                "count": 0,
            }
        summary[key]["count"] += 1
    return list(summary.values())


def _run_steps(settings, steps, progress):
    """Everything but writing: returns the report and the fitted objects."""
    seed = int(settings["seed"])
    steps.start("load data")
    flows = load_flows(
        settings["dataset"], data_home=settings["data_home"], target=settings["target"]
    )
    X_all, y_all, cat_all = flows["X"], flows["y"], flows["categories"]
    n_file = len(X_all)
    keep = stratified_subsample(
        n_file, cat_all, settings["max_rows"], random_state=seed
    )
    X = X_all.iloc[keep].reset_index(drop=True)
    y, categories = y_all[keep], cat_all[keep]

    steps.start("split")
    window = int(settings["window"])
    split = split_for_protocol(
        settings["protocol"],
        X,
        y,
        window=window,
        test_size=settings["test_size"],
        random_state=seed,
    )
    train, test = split["train"], split["test"]
    protocol = _protocol_section(
        settings["protocol"], split, window=window, n_rows=len(X)
    )

    steps.start("preprocess and window")
    preprocessor = make_preprocessor().fit(X.iloc[train], y[train])
    windower = make_windower(window)
    if split["windowing"] == "per-side":
        flat_train = preprocessor.transform(X.iloc[train])
        flat_test = preprocessor.transform(X.iloc[test])
        Xw_train = windower.fit_transform(flat_train, y[train])
        Xw_test = windower.transform(flat_test)
    else:
        flat_all = preprocessor.transform(X)
        windows = windower.fit_transform(flat_all, y)
        Xw_train, Xw_test = windows.iloc[train], windows.iloc[test]
        flat_train, flat_test = flat_all[train], flat_all[test]
    y_train, y_test = y[train], y[test]

    fit_seconds = {}
    steps.start("train teacher")
    teacher = make_teacher(
        hidden=int(settings["teacher_hidden"]),
        epochs=int(settings["epochs"]),
        random_state=seed,
        threads=int(settings["threads"]),
        progress=progress,
    )
    start = time.perf_counter()
    teacher.fit(Xw_train, y_train)
    fit_seconds["teacher"] = time.perf_counter() - start

    steps.start("distil student")
    student = make_student(
        teacher,
        hidden=int(settings["student_hidden"]),
        epochs=int(settings["epochs"]),
        random_state=seed,
        threads=int(settings["threads"]),
        progress=progress,
    )
    start = time.perf_counter()
    student.fit(Xw_train, y_train)
    fit_seconds["student"] = time.perf_counter() - start

    steps.start("train baseline")
    baseline = make_baseline(seed)
    start = time.perf_counter()
    baseline.fit(flat_train, y_train)
    fit_seconds["baseline"] = time.perf_counter() - start

    steps.start("evaluate")
    normal_label = flows["normal_label"]
    attack_test = categories[test] != flows["normal_category"]
    labels = sorted({str(v) for v in np.unique(y)})
    results = {}
    for name, estimator, X_eval in (
        ("teacher", teacher, Xw_test),
        ("student", student, Xw_test),
        ("baseline", baseline, flat_test),
    ):
        pred = np.asarray(estimator.predict(X_eval))
        metrics = _report.detection_metrics(
            y_test,
            pred,
            attack_true=attack_test,
            attack_pred=pred.astype(str) != str(normal_label),
            categories=categories[test],
            normal_category=flows["normal_category"],
            target=settings["target"],
            labels=labels,
        )
        metrics["protocol"] = settings["protocol"]
        metrics["fit_seconds"] = fit_seconds[name]
        metrics["n_parameters"] = getattr(estimator, "n_parameters_", None)
        results[name] = metrics
    results["baseline"]["n_boosting_iterations"] = int(baseline.n_iter_)

    pipelines = {
        "teacher": _assemble(preprocessor, windower, teacher),
        "student": _assemble(preprocessor, windower, student),
        "baseline": _assemble(preprocessor, None, baseline),
    }

    steps.start("time predictions")
    X_test_raw = X.iloc[test]
    with warnings.catch_warnings():
        # Already reported by the evaluation step; the timing loops would
        # repeat it for every single-flow call.
        warnings.simplefilter("ignore", UnknownCategoryWarning)
        for name, pipeline in pipelines.items():
            throughput = _report.measure_throughput(pipeline.predict, X_test_raw)
            latency = _report.measure_latency(
                pipeline.predict,
                X_test_raw,
                n_calls=int(settings["latency_calls"]),
                random_state=seed,
            )
            results[name]["throughput_flows_per_second"] = throughput[
                "flows_per_second"
            ]
            results[name]["throughput"] = throughput
            results[name]["latency_median_ms"] = latency["median_ms"]
            results[name]["latency_p99_ms"] = latency["p99_ms"]
            results[name]["latency"] = latency
        for name, estimator, X_eval in (
            ("teacher", pipelines["teacher"][-1], Xw_test),
            ("student", pipelines["student"][-1], Xw_test),
            ("baseline", pipelines["baseline"][-1], flat_test),
        ):
            latency = _report.measure_latency(
                estimator.predict,
                X_eval,
                n_calls=int(settings["latency_calls"]),
                random_state=seed,
            )
            results[name]["classifier_latency_median_ms"] = latency["median_ms"]
            results[name]["classifier_latency"] = latency
    steps.start("write outputs")

    histories = {
        "teacher": _history_records(teacher),
        "student": _history_records(student),
    }
    for name, history in histories.items():
        results[name]["history"] = history

    data_notes = []
    if len(keep) < n_file:
        data_notes.append(
            f"stratified random subsample (seed {seed}) of {len(keep):,} of the "
            f"{n_file:,} rows, by attack category, kept in file order "
            f"(preset {settings['preset']!r}); use --max-rows 0 for every row"
        )
    else:
        data_notes.append(f"all {n_file:,} rows of the file")
    if settings["target"] == "binary":
        data_notes.append(
            "target: attack (1) versus normal (0); per-category rates use the "
            "attack category of each flow"
        )
    data_notes.append(
        "timings come from this machine while it ran this job; other load on "
        "the machine inflates them"
    )
    report = {
        "tool": "sklearn-2dbm",
        "version": __version__,
        "command": "run",
        "config": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in settings.items()
        },
        "data": {
            "dataset": settings["dataset"],
            "n_rows_file": n_file,
            "n_rows_used": len(keep),
            "n_train": len(train),
            "n_test": len(test),
            "subsampled": bool(len(keep) < n_file),
            "category_counts_used": _counts(categories),
            "category_counts_test": _counts(categories[test]),
            "notes": data_notes,
            "loader_warnings": flows["loader_warnings"],
            "load_report": flows["load_report"],
        },
        "protocol": protocol,
        "models": results,
        "published_claims": {
            "source": "2DBM paper, UNSW-NB15, its own protocol",
            "column_label": _report.PUBLISHED_CLAIM_HEADER,
            "claims": _report.PUBLISHED_CLAIMS,
        },
        "environment": _environment(settings),
    }
    artefacts = {"pipelines": pipelines, "histories": histories}
    return report, artefacts


def _write_outputs(report, artefacts, output, settings):
    """Write pipelines, weights and figures; return the file names."""
    from ._persistence import save_weights

    results = report["models"]
    files = []
    for name, pipeline in artefacts["pipelines"].items():
        path = output / f"{name}_pipeline.joblib"
        results[name]["model_file_bytes"] = _report.atomic_dump_joblib(pipeline, path)
        results[name]["model_file"] = path.name
        files.append(path.name)
    for name in ("teacher", "student"):
        path = output / f"{name}_weights.pt"
        with _report.atomic_path(path) as tmp:
            save_weights(artefacts["pipelines"][name][-1], tmp)
        results[name]["weights_file_bytes"] = path.stat().st_size
        results[name]["weights_file"] = path.name
        files.append(path.name)
    results["student"]["model_file_note"] = (
        "the student pipeline file embeds its frozen teacher (the `teacher` "
        "parameter); student_weights.pt holds the student alone"
    )
    protocol = settings["protocol"]
    figures = {
        "confusion_matrices.png": _plots.plot_confusion_matrices(
            results, protocol=protocol
        ),
        "detection_rates.png": _plots.plot_detection_rates(results, protocol=protocol),
        "training_curves.png": _plots.plot_training_curves(
            artefacts["histories"], protocol=protocol
        ),
    }
    for filename, figure in figures.items():
        _plots.save_figure(figure, output / filename)
        files.append(filename)
    return files


def _counts(values):
    names, counts = np.unique(np.asarray(values).astype(str), return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts)}


def _history_records(estimator):
    history = getattr(estimator, "history_", None)
    if history is None:
        return []
    records = []
    for entry in history:
        record = {}
        for key in ("epoch", "train_loss", "valid_loss", "dur"):
            value = entry.get(key) if hasattr(entry, "get") else None
            if value is not None:
                record[key] = float(value)
        records.append(record)
    return records


def _environment(settings):
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sklearn-2dbm": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads_used": int(settings["threads"]),
    }


def config_fields():
    """Return the names of the :class:`JobConfig` fields.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from sklearn_2dbm._main_job import config_fields
    >>> "protocol" in config_fields()
    True
    """
    return [f.name for f in fields(JobConfig)]


# --------------------------------------------------------------------------
# Files of flows: train, evaluate, predict
# --------------------------------------------------------------------------

LAYOUTS = ("auto", "unsw-nb15", "cic-ids2017")
NORMAL_NAMES = ("Normal", "BENIGN", "normal", "benign", "Benign")
_CIC_MARKERS = {"flow duration", "total fwd packets", "destination port"}
_UNSW_MARKERS = {"attack_cat", "sbytes", "dbytes", "sttl", "srcip"}


def _open_binary(path):
    import gzip

    path = Path(path)
    if path.is_dir():
        raise InputError(f"input {str(path)!r} is a folder; expected a CSV file")
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} does not exist")
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def _open_text(path):
    # Only the header is read as text; bytes that are not UTF-8 (the
    # CIC-IDS2017 0x96 dash) cannot occur in the names that are looked at.
    return io.TextIOWrapper(
        _open_binary(path), encoding="utf-8-sig", errors="replace", newline=""
    )


def detect_layout(path):
    """Tell which dataset layout a CSV of flows follows, from its header.

    Parameters
    ----------
    path : str or path-like
        CSV file, plain or gzip-compressed.

    Returns
    -------
    layout : {"unsw-nb15", "cic-ids2017"}
        The layout.

    Raises
    ------
    InputError
        When the file is missing, empty or matches neither layout.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_2dbm._main_job import detect_layout
    >>> path = Path(tempfile.mkdtemp()) / "flows.csv"
    >>> _ = path.write_text(" Destination Port, Flow Duration, Label\\n80,3,BENIGN\\n")
    >>> detect_layout(path)
    'cic-ids2017'
    """
    try:
        with _open_text(path) as handle:
            first = handle.readline()
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}") from exc
    if not first.strip():
        raise InputError(f"input file {str(path)!r} is empty; expected a CSV of flows")
    fields = first.rstrip("\r\n").split(",")
    names = {name.strip().lower() for name in fields}
    if len(fields) == 49 and not names & (_UNSW_MARKERS | _CIC_MARKERS):
        raise InputError(
            f"{Path(path).name}: looks like a raw, headerless UNSW-NB15 file "
            "(UNSW-NB15_1..4.csv, 49 fields); the command line reads CSVs with a "
            "header row. Load it with sklearn_2dbm.datasets.load_unsw_nb15("
            "partition='raw') and write it out with a header first"
        )
    if names & _UNSW_MARKERS:
        return "unsw-nb15"
    if names & _CIC_MARKERS:
        return "cic-ids2017"
    raise InputError(
        f"{Path(path).name}: the header matches neither UNSW-NB15 nor "
        "CIC-IDS2017 flow files; pass --dataset-layout if the file is one of "
        "them, or check that it is a CSV of flows"
    )


def load_labelled_csv(path, *, layout="auto", target="binary"):
    """Load a labelled CSV of flows through the dataset loader of its layout.

    The loader's repairs (byte-order mark, column names, ``Infinity``,
    category spellings, ...) apply, so the features match those of
    :func:`load_flows`.

    Parameters
    ----------
    path : str or path-like
        CSV file with a label column.
    layout : {"auto", "unsw-nb15", "cic-ids2017"}, default="auto"
        File layout; detected from the header with ``"auto"``.
    target : {"binary", "category"}, default="binary"
        Target of the returned ``y``.

    Returns
    -------
    flows : dict
        As returned by :func:`load_flows`, plus ``layout``.

    Raises
    ------
    InputError
        When the file is missing, unreadable, unlabelled or not of the layout.
    """
    from . import datasets

    if layout not in LAYOUTS:
        raise InputError(
            f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}"
        )
    if layout == "auto":
        layout = detect_layout(path)
    elif not Path(path).is_file():
        raise InputError(f"input file {str(path)!r} does not exist")
    loader = {
        "unsw-nb15": datasets.load_unsw_nb15,
        "cic-ids2017": datasets.load_cic_ids2017,
    }[layout]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bunch = loader(files=[Path(path).resolve()], target="category")
    except (FileNotFoundError, ValueError, UnicodeError) as exc:
        raise InputError(str(exc)) from exc
    categories = np.asarray(bunch.target, dtype=object).astype(str)
    if len(categories) == 0:
        raise InputError(f"{Path(path).name}: no labelled rows to use")
    normal_category = _normal_category(categories, Path(path).name)
    attack = categories != normal_category
    y = attack.astype(np.int64) if target == "binary" else categories
    report = getattr(bunch, "load_report", None)
    return {
        "X": bunch.data.reset_index(drop=True),
        "y": y,
        "categories": categories,
        "normal_category": normal_category,
        "normal_label": 0 if target == "binary" else normal_category,
        "load_report": report.to_dict() if hasattr(report, "to_dict") else report,
        "loader_warnings": [str(w.message) for w in caught],
        "source": str(path),
        "layout": layout,
    }


def _text_features(layout):
    if layout == "unsw-nb15":
        from .datasets._unsw import TEXT_FEATURES

        return set(TEXT_FEATURES)
    return set()


def normalise_flow_chunk(chunk, *, layout, feature_names):
    """Turn a chunk of a raw CSV of flows into the model's feature table.

    Column names are stripped of whitespace and matched to
    ``feature_names`` (case-insensitively when there is no exact match);
    other columns (labels, identifiers) are left out. Numbers are parsed as
    the loaders parse them: ``Infinity``, ``NaN`` and empty cells in a
    CIC-IDS2017 file become -1 (the loader's default ``nonfinite`` policy);
    empty text features of UNSW-NB15 become ``"-"``.

    Parameters
    ----------
    chunk : DataFrame
        Raw rows, every cell read as text.
    layout : {"unsw-nb15", "cic-ids2017"}
        Layout of the file.
    feature_names : sequence of str
        Columns the fitted model expects, in order.

    Returns
    -------
    X : DataFrame of shape (n_rows, len(feature_names))
        Features in the model's column order.

    Raises
    ------
    InputError
        When columns are missing or a numeric column holds text.

    Notes
    -----
    The loaders expose no public function that repairs a chunk of rows, so
    this mirrors the repairs that apply to scoring (it needs no label). A
    whole labelled file goes through the loaders themselves (``train``,
    ``evaluate``).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_2dbm._main_job import normalise_flow_chunk
    >>> raw = pd.DataFrame({" Flow Bytes/s": ["Infinity", "12"], " Label": ["B", "B"]})
    >>> normalise_flow_chunk(raw, layout="cic-ids2017", feature_names=["Flow Bytes/s"])
       Flow Bytes/s
    0          -1.0
    1          12.0
    """
    stripped = [str(c).strip() for c in chunk.columns]
    by_name = dict(zip(stripped, chunk.columns))
    by_lower = {name.lower(): original for name, original in by_name.items()}
    columns, missing = {}, []
    for name in feature_names:
        original = by_name.get(name, by_lower.get(str(name).lower()))
        if original is None:
            missing.append(name)
        else:
            columns[name] = original
    if missing:
        raise InputError(
            f"the input lacks {len(missing)} column(s) the model was trained on, "
            f"e.g. {missing[:5]}; give a file of the same layout as the training "
            "data"
        )
    text = _text_features(layout)
    out = {}
    for name in feature_names:
        values = chunk[columns[name]]
        if name in text:
            values = values.astype("str").str.strip()
            out[name] = values.where(~values.isin(["", "nan"]), "-")
            continue
        cleaned = values.astype("str").str.strip()
        numbers = pd.to_numeric(cleaned, errors="coerce")
        blank = cleaned.isin(["", "nan", "NaN", "-nan", "+nan"]) | values.isna()
        bad = numbers.isna() & ~blank
        if bad.any():
            first = cleaned[bad].iloc[0]
            raise InputError(
                f"column {name!r} should hold numbers but has "
                f"{int(bad.sum())} non-numeric cells, the first {first!r}"
            )
        numbers = numbers.astype("float64")
        if layout == "cic-ids2017":
            finite = np.isfinite(numbers) & (
                np.abs(numbers) <= np.finfo(np.float32).max
            )
            numbers = numbers.where(finite, -1.0).astype(np.float32)
        elif layout == "unsw-nb15":
            numbers = numbers.where(~blank, 0.0)
        out[name] = numbers
    return pd.DataFrame(out, index=chunk.index)


def load_model(path):
    """Load a pipeline saved by sklearn-2dbm and check that it is one.

    Parameters
    ----------
    path : str or path-like
        A ``.joblib`` file written by ``sklearn-2dbm run`` or ``train``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Fitted pipeline whose first step is a
        :class:`~sklearn_2dbm.FlowPreprocessor`.

    Raises
    ------
    InputError
        When the file is missing, is not a joblib file, or holds something
        else than such a pipeline.

    Notes
    -----
    ``joblib.load`` runs pickled code: load only model files you trust.
    """
    import joblib

    from ._preprocessing import FlowPreprocessor

    path = Path(path)
    if path.is_dir():
        raise InputError(f"model {str(path)!r} is a folder; expected a .joblib file")
    if not path.is_file():
        raise InputError(f"model file {str(path)!r} does not exist")
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is bad input
        raise InputError(
            f"{path.name} is not a model saved by sklearn-2dbm "
            f"(joblib could not read it: {type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(model, Pipeline) or not isinstance(
        model.steps[0][1], FlowPreprocessor
    ):
        raise InputError(
            f"{path.name} holds a {type(model).__name__}, not a pipeline saved by "
            "sklearn-2dbm (a Pipeline starting with FlowPreprocessor); save one "
            "with `sklearn-2dbm train` or `sklearn-2dbm run`"
        )
    if not hasattr(model, "classes_"):
        raise InputError(f"{path.name} holds a pipeline that was never fitted")
    return model


def _model_feature_names(model):
    names = getattr(model.steps[0][1], "feature_names_in_", None)
    if names is None:
        raise InputError(
            "the model was fitted without column names, so the columns of a CSV "
            "cannot be matched to it"
        )
    return [str(name) for name in names]


def _model_window(model):
    from ._windowing import FlowWindower

    for _, step in model.steps:
        if isinstance(step, FlowWindower):
            return step
    return None


def _normal_label(classes):
    classes = list(classes)
    for name in NORMAL_NAMES:
        if name in [str(c) for c in classes]:
            return next(c for c in classes if str(c) == name)
    if {str(c) for c in classes} <= {"0", "1"}:
        return next((c for c in classes if str(c) == "0"), 0)
    raise InputError(
        f"cannot tell the normal class among the model's classes {classes}; "
        "expected 0/1 or a 'Normal'/'BENIGN' category"
    )


def _model_target(classes):
    return "binary" if {str(c) for c in classes} <= {"0", "1"} else "category"


def fit_pipelines(X, y, *, settings, progress=False, which=("teacher", "student")):
    """Fit the teacher (and the student distilled from it) on ordered flows.

    Windows are built over the rows of ``X`` in the order given.

    Parameters
    ----------
    X : DataFrame
        Raw flows, in the order they are windowed.
    y : array-like
        Target.
    settings : dict
        Resolved settings (``window``, ``epochs``, ``teacher_hidden``,
        ``student_hidden``, ``seed``).
    progress : bool, default=False
        Whether the networks show progress bars.
    which : tuple of str, default=("teacher", "student")
        Models to fit; the teacher is always fitted.

    Returns
    -------
    pipelines : dict
        Name -> fitted Pipeline (preprocess, window, classifier).
    fit_seconds : dict
        Name -> training time of the classifier.
    """
    seed = int(settings["seed"])
    preprocessor = make_preprocessor()
    windower = make_windower(int(settings["window"]))
    flat = preprocessor.fit_transform(X, y)
    windows = windower.fit_transform(flat, y)
    fit_seconds = {}
    teacher = make_teacher(
        hidden=int(settings["teacher_hidden"]),
        epochs=int(settings["epochs"]),
        random_state=seed,
        threads=int(settings.get("threads", 1)),
        progress=progress,
    )
    start = time.perf_counter()
    teacher.fit(windows, y)
    fit_seconds["teacher"] = time.perf_counter() - start
    models = {"teacher": teacher}
    if "student" in which:
        student = make_student(
            teacher,
            hidden=int(settings["student_hidden"]),
            epochs=int(settings["epochs"]),
            random_state=seed,
            threads=int(settings.get("threads", 1)),
            progress=progress,
        )
        start = time.perf_counter()
        student.fit(windows, y)
        fit_seconds["student"] = time.perf_counter() - start
        models["student"] = student
    pipelines = {
        name: _assemble(preprocessor, windower, model) for name, model in models.items()
    }
    return pipelines, fit_seconds


def _assemble(preprocessor, windower, classifier):
    steps = [("preprocess", preprocessor)]
    if windower is not None:
        steps.append(("window", windower))
    steps.append(("classifier", classifier))
    return Pipeline(steps)


def evaluate_pipeline(model, flows):
    """Score a fitted pipeline on labelled flows, windowed in file order.

    Parameters
    ----------
    model : Pipeline
        Fitted pipeline (see :func:`load_model`).
    flows : dict
        As returned by :func:`load_labelled_csv` with ``target="category"``.

    Returns
    -------
    metrics : dict
        As returned by :func:`sklearn_2dbm._report.detection_metrics`, plus
        ``window_label_purity`` of the file's windows and ``warnings``.
    """
    classes = model.classes_
    target = _model_target(classes)
    normal_label = _normal_label(classes)
    categories = flows["categories"]
    attack_true = categories != flows["normal_category"]
    y_true = attack_true.astype(np.int64) if target == "binary" else categories
    X = _check_columns(model, flows["X"])
    pred = np.asarray(model.predict(X))
    attack_pred = pred.astype(str) != str(normal_label)
    labels = sorted({str(c) for c in classes} | {str(v) for v in np.unique(y_true)})
    metrics = _report.detection_metrics(
        y_true,
        pred,
        attack_true=attack_true,
        attack_pred=attack_pred,
        categories=categories,
        normal_category=flows["normal_category"],
        target=target,
        labels=labels,
    )
    windower = _model_window(model)
    metrics["warnings"] = []
    if windower is not None and int(windower.window) > 1:
        from ._protocols import window_label_purity

        window = int(windower.window)
        purity = window_label_purity(np.asarray(y_true), window)
        metrics["window_label_purity"] = purity
        _, counts = np.unique(np.asarray(y_true), return_counts=True)
        # A file of (nearly) one label gives pure windows in any row order.
        chance = float(np.sum((counts / counts.sum()) ** window))
        if np.isfinite(purity) and purity > 0.95 and chance <= 0.95:
            metrics["warnings"].append(
                f"{100 * purity:.1f}% of the windows in this file hold flows of "
                "a single label: the rows are ordered by label, so these scores "
                "measure the file's ordering, not detection"
            )
    return metrics


def _check_columns(model, X):
    expected = _model_feature_names(model)
    missing = [name for name in expected if name not in X.columns]
    if missing:
        raise InputError(
            f"the input lacks {len(missing)} column(s) the model was trained on, "
            f"e.g. {missing[:5]}; the model expects {len(expected)} columns of "
            "another layout"
        )
    return X[expected]


def predict_csv(
    model, input_path, output_path, *, chunksize=50_000, layout="auto", progress=False
):
    """Score a CSV of flows chunk by chunk and write it back with predictions.

    The output holds the input columns, unchanged (read as text), plus
    ``predicted_label`` and ``attack_probability``. Chunks are read with
    :func:`pandas.read_csv`, so files larger than memory work. The last
    ``window - 1`` rows of each chunk are carried over as context for the
    next one, so every flow gets the same window as in one pass over the
    file. The output is written to a temporary file and renamed at the end.

    Parameters
    ----------
    model : Pipeline
        Fitted pipeline (see :func:`load_model`).
    input_path, output_path : str or path-like
        CSV to score and CSV to write.
    chunksize : int, default=50_000
        Rows per chunk; 0 reads the file in one pass.
    layout : {"auto", "unsw-nb15", "cic-ids2017"}, default="auto"
        Layout of the input.
    progress : bool, default=False
        Whether to show a progress bar over chunks.

    Returns
    -------
    summary : dict
        ``n_rows``, ``n_chunks``, ``n_predicted_attacks``, ``layout``.

    Raises
    ------
    InputError
        When the input is unreadable, empty or does not match the model.
    """
    from tqdm.auto import tqdm

    if layout not in LAYOUTS:
        raise InputError(
            f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}"
        )
    if layout == "auto":
        layout = detect_layout(input_path)
    if int(chunksize) < 0:
        raise InputError(f"--chunksize must be >= 0, got {chunksize}")
    feature_names = _model_feature_names(model)
    windower = _model_window(model)
    carry = 0
    if windower is not None:
        if windower.group_by is not None or windower.order_by is not None:
            if chunksize:
                raise InputError(
                    "the model windows flows by group_by/order_by, which chunked "
                    "scoring cannot reproduce; pass --chunksize 0 to score in one pass"
                )
        carry = int(windower.window) - 1
    classes = np.asarray(model.classes_)
    normal_label = _normal_label(classes)
    is_attack_class = classes.astype(str) != str(normal_label)

    n_rows = n_chunks = n_attacks = 0
    context = None
    unseen = []
    try:
        handle = _open_binary(input_path)
    except OSError as exc:
        raise InputError(f"cannot read {str(input_path)!r}: {exc}") from exc
    with handle:
        try:
            reader = pd.read_csv(
                handle,
                dtype=str,
                keep_default_na=False,
                # Bytes that are not UTF-8 travel through as they are and are
                # written back unchanged.
                encoding="utf-8-sig",
                encoding_errors="surrogateescape",
                chunksize=int(chunksize) or None,
                iterator=bool(chunksize),
            )
            chunks = reader if chunksize else [reader]
        except pd.errors.EmptyDataError as exc:
            raise InputError(f"input file {str(input_path)!r} is empty") from exc
        except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
            raise InputError(
                f"{Path(input_path).name}: not a readable CSV ({exc})"
            ) from exc
        with (
            _report.atomic_path(output_path) as tmp,
            open(
                tmp, "w", encoding="utf-8", errors="surrogateescape", newline=""
            ) as out,
        ):
            bar = tqdm(disable=not progress, unit="flow", desc="score")
            try:
                for chunk in _guarded(chunks, input_path):
                    if chunk.empty:
                        continue
                    features = normalise_flow_chunk(
                        chunk, layout=layout, feature_names=feature_names
                    ).reset_index(drop=True)
                    batch = (
                        features
                        if context is None
                        else pd.concat([context, features], ignore_index=True)
                    )
                    n_context = len(batch) - len(features)
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", UnknownCategoryWarning)
                        proba = np.asarray(model.predict_proba(batch))[n_context:]
                    unseen.extend(_reraise_other_warnings(caught))
                    labels = classes[proba.argmax(axis=1)]
                    scored = chunk.copy()
                    scored["predicted_label"] = labels
                    scored["attack_probability"] = proba[:, is_attack_class].sum(axis=1)
                    scored.to_csv(out, header=n_chunks == 0, index=False)
                    context = (
                        batch.iloc[max(0, len(batch) - carry) :] if carry else None
                    )
                    n_rows += len(chunk)
                    n_chunks += 1
                    n_attacks += int(is_attack_class[proba.argmax(axis=1)].sum())
                    bar.update(len(chunk))
            finally:
                bar.close()
            if n_rows == 0:
                raise InputError(f"input file {str(input_path)!r} has no data rows")
    if unseen:
        # One warning for the file rather than one per chunk.
        warnings.warn(
            f"{len(unseen)} of {n_chunks} chunk(s) held categories not seen in "
            f"fit; the first: {unseen[0]}",
            UnknownCategoryWarning,
            stacklevel=2,
        )
    return {
        "n_rows": n_rows,
        "n_chunks": n_chunks,
        "n_predicted_attacks": n_attacks,
        "layout": layout,
    }


def _reraise_other_warnings(caught):
    """Re-emit recorded warnings; return the unseen-category messages."""
    unseen = []
    for record in caught:
        if issubclass(record.category, UnknownCategoryWarning):
            unseen.append(str(record.message))
        else:
            warnings.warn_explicit(
                record.message, record.category, record.filename, record.lineno
            )
    return unseen


def _guarded(chunks, path):
    iterator = iter(chunks)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
            raise InputError(f"{Path(path).name}: not a readable CSV ({exc})") from exc
        yield chunk
