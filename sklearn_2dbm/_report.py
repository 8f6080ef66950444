"""Metrics, timing and report writers of the command-line jobs.

Everything here works on plain arrays and dictionaries so that the CLI, the
main job and the examples share one definition of every number they print.
Files are always written atomically: to a temporary file in the target
folder first, then renamed over the final name, so an interrupted run never
leaves a half-written report, plot or model behind.
"""

import contextlib
import json
import math
import os
import secrets
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

__all__ = [
    "PUBLISHED_CLAIMS",
    "atomic_path",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_dump_joblib",
    "detection_metrics",
    "measure_throughput",
    "measure_latency",
    "render_markdown",
    "format_summary_table",
]

PUBLISHED_CLAIMS = {
    "accuracy": "99.86% (UNSW-NB15)",
    "false_positive_rate": "< 0.5%",
    "parameter_reduction": "38% fewer than teacher",
    "latency_reduction": "60% lower than teacher",
}
"""Claims of the 2DBM paper, shown next to our numbers and never reproduced."""

PUBLISHED_CLAIM_HEADER = "published claim (different protocol, not reproduced)"


# --------------------------------------------------------------------------
# Atomic writers
# --------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path that replaces ``path`` only on success.

    The temporary file lives in the same folder as ``path`` (so the final
    rename is atomic on POSIX file systems). If the body raises, the temporary
    file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or path-like
        Final location of the file. Its folder must exist.

    Yields
    ------
    tmp_path : pathlib.Path
        Where to write the content.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_2dbm._report import atomic_path
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "out.txt").read_text()
    'done'
    """
    path = Path(path)
    # O_EXCL on a random name: never clobbers another writer's file, and the
    # 0o666 mode lets the process umask decide the final permissions.
    while True:
        tmp_path = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        break
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    text : str
        Content.

    Returns
    -------
    path : pathlib.Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_2dbm._report import atomic_write_text
    >>> target = Path(tempfile.mkdtemp()) / "notes.md"
    >>> atomic_write_text(target, "# hello\\n").read_text()
    '# hello\\n'
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return value.as_posix()
    return value


def atomic_write_json(path, data):
    """Write ``data`` as indented JSON to ``path`` atomically.

    NumPy scalars and arrays are converted to plain Python values; NaN and
    infinite floats become ``null`` so that the file is strict JSON.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    data : dict
        JSON-like content.

    Returns
    -------
    path : pathlib.Path
        The written file.

    Examples
    --------
    >>> import json, tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from sklearn_2dbm._report import atomic_write_json
    >>> target = Path(tempfile.mkdtemp()) / "r.json"
    >>> _ = atomic_write_json(target, {"f1": np.float32(0.5), "n": np.int64(3)})
    >>> json.loads(target.read_text())
    {'f1': 0.5, 'n': 3}
    """
    text = json.dumps(_to_jsonable(data), indent=2, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


def atomic_dump_joblib(obj, path):
    """Dump ``obj`` with :func:`joblib.dump` atomically and return the file size.

    Parameters
    ----------
    obj : object
        Picklable object, typically a fitted pipeline.
    path : str or path-like
        Destination file.

    Returns
    -------
    n_bytes : int
        Size of the written file in bytes.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_2dbm._report import atomic_dump_joblib
    >>> atomic_dump_joblib({"a": 1}, Path(tempfile.mkdtemp()) / "m.joblib") > 0
    True
    """
    with atomic_path(path) as tmp:
        joblib.dump(obj, tmp)
    return Path(path).stat().st_size


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def _as_str_array(values):
    return np.asarray([str(v) for v in np.asarray(values, dtype=object)], dtype=object)


def detection_metrics(
    y_true,
    y_pred,
    *,
    attack_true,
    attack_pred,
    categories,
    normal_category,
    target="binary",
    labels=None,
):
    """Compute the detection figures of one model on one test set.

    Accuracy and the confusion matrix are computed on the model's own target
    (binary or category). Precision, recall, F1 and the false-positive rate
    are computed on the attack-versus-normal decision, whatever the target,
    so that binary and category models compare on the same footing.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted target labels.
    attack_true, attack_pred : array-like of bool, shape (n_samples,)
        Whether each flow is (predicted to be) an attack.
    categories : array-like of shape (n_samples,)
        Attack category of each test flow, used for the per-category
        detection rates even when the target is binary.
    normal_category : str
        The category name of benign traffic (``"Normal"``, ``"BENIGN"``).
    target : {"binary", "category"}, default="binary"
        The model's target; ``"category"`` adds macro-F1 and per-class recall.
    labels : array-like, default=None
        Order of the confusion-matrix rows and columns. Defaults to the
        sorted union of ``y_true`` and ``y_pred``.

    Returns
    -------
    metrics : dict
        ``accuracy``, ``precision``, ``recall``, ``f1``,
        ``false_positive_rate``, ``detection_rate_by_category`` (category ->
        fraction of its flows flagged as attacks; for the normal category,
        the fraction wrongly flagged), ``support_by_category``,
        ``confusion_matrix`` and ``confusion_labels``, plus ``macro_f1`` and
        ``recall_by_class`` for the category target.

    Examples
    --------
    >>> from sklearn_2dbm._report import detection_metrics
    >>> m = detection_metrics(
    ...     [0, 1, 1, 0], [0, 1, 0, 1],
    ...     attack_true=[False, True, True, False],
    ...     attack_pred=[False, True, False, True],
    ...     categories=["Normal", "DoS", "Worms", "Normal"],
    ...     normal_category="Normal",
    ... )
    >>> m["accuracy"], m["false_positive_rate"]
    (0.5, 0.5)
    >>> m["detection_rate_by_category"]
    {'DoS': 1.0, 'Normal': 0.5, 'Worms': 0.0}
    """
    y_true = _as_str_array(y_true)
    y_pred = _as_str_array(y_pred)
    attack_true = np.asarray(attack_true, dtype=bool)
    attack_pred = np.asarray(attack_pred, dtype=bool)
    categories = _as_str_array(categories)
    if labels is None:
        labels = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    labels = [str(label) for label in labels]

    n_normal = int((~attack_true).sum())
    metrics = {
        "n_test": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(attack_true, attack_pred, zero_division=0)),
        "recall": float(recall_score(attack_true, attack_pred, zero_division=0)),
        "f1": float(f1_score(attack_true, attack_pred, zero_division=0)),
        "false_positive_rate": (
            float(attack_pred[~attack_true].mean()) if n_normal else float("nan")
        ),
    }
    rates, support = {}, {}
    for category in sorted(set(categories.tolist())):
        mask = categories == category
        rates[category] = float(attack_pred[mask].mean())
        support[category] = int(mask.sum())
    metrics["detection_rate_by_category"] = rates
    metrics["support_by_category"] = support
    metrics["normal_category"] = str(normal_category)
    if target == "category":
        # Classes absent from both the test labels and the predictions have
        # no F1 to speak of; counting them as 0 would drag the mean down.
        scored = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
        metrics["macro_f1"] = float(
            f1_score(y_true, y_pred, labels=scored, average="macro", zero_division=0)
        )
        present = sorted(set(y_true.tolist()))
        per_class = recall_score(
            y_true, y_pred, labels=present, average=None, zero_division=0
        )
        metrics["recall_by_class"] = {
            label: float(value) for label, value in zip(present, per_class)
        }
    metrics["confusion_labels"] = labels
    metrics["confusion_matrix"] = confusion_matrix(
        y_true, y_pred, labels=labels
    ).tolist()
    return metrics


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


def measure_throughput(predict, X, *, repeats=1):
    """Time batch prediction and return flows per second.

    Parameters
    ----------
    predict : callable
        Called as ``predict(X)``, typically ``pipeline.predict``.
    X : array-like or DataFrame
        The batch; its length is the number of flows.
    repeats : int, default=1
        Number of timed calls; the fastest one is kept.

    Returns
    -------
    timing : dict
        ``n_flows``, ``seconds`` and ``flows_per_second``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm._report import measure_throughput
    >>> out = measure_throughput(lambda X: X.sum(axis=1), np.ones((100, 3)))
    >>> out["n_flows"], out["flows_per_second"] > 0
    (100, True)
    """
    best = math.inf
    for _ in range(max(1, int(repeats))):
        start = time.perf_counter()
        predict(X)
        best = min(best, time.perf_counter() - start)
    n_flows = len(X)
    return {
        "n_flows": int(n_flows),
        "seconds": float(best),
        "flows_per_second": float(n_flows / best) if best > 0 else float("inf"),
    }


def measure_latency(predict, X, *, n_calls=200, random_state=0):
    """Time ``n_calls`` single-flow predictions and summarise the latency.

    Each call passes one row (``X.iloc[[i]]`` for a DataFrame, ``X[[i]]``
    otherwise), so the time covers the whole pipeline as a live scorer
    would run it. One untimed call warms caches first.

    Parameters
    ----------
    predict : callable
        Called as ``predict(one_row)``.
    X : array-like or DataFrame
        Rows to draw the single flows from.
    n_calls : int, default=200
        Number of timed calls.
    random_state : int, default=0
        Seed of the choice of rows.

    Returns
    -------
    timing : dict
        ``n_calls``, ``median_ms``, ``p99_ms`` and ``mean_ms``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_2dbm._report import measure_latency
    >>> out = measure_latency(lambda X: X.sum(), np.ones((10, 2)), n_calls=5)
    >>> out["n_calls"], out["median_ms"] >= 0
    (5, True)
    """
    rng = np.random.default_rng(random_state)
    rows = rng.integers(0, len(X), size=int(n_calls))

    def take(i):
        if hasattr(X, "iloc"):
            return X.iloc[[int(i)]]
        return np.asarray(X)[[int(i)]]

    predict(take(rows[0]))
    times = np.empty(len(rows))
    for k, i in enumerate(rows):
        one = take(i)
        start = time.perf_counter()
        predict(one)
        times[k] = time.perf_counter() - start
    times_ms = times * 1000.0
    return {
        "n_calls": int(n_calls),
        "median_ms": float(np.median(times_ms)),
        "p99_ms": float(np.percentile(times_ms, 99)),
        "mean_ms": float(times_ms.mean()),
    }


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

MODEL_TITLES = {
    "teacher": "teacher (BiLSTM)",
    "student": "student (distilled)",
    "baseline": "baseline (HistGradientBoosting)",
}


def _pct(value, digits=2):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def _num(value, fmt="{:,.0f}"):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return fmt.format(value)


def _reduction(teacher_value, student_value):
    if not teacher_value or student_value is None:
        return None
    return 1.0 - student_value / teacher_value


def summary_rows(report):
    """Build the rows of the comparison table of a main-job report.

    Parameters
    ----------
    report : dict
        Report produced by :func:`sklearn_2dbm._main_job.run_main_job`.

    Returns
    -------
    header : list of str
        Column names, the last one being the published claim.
    rows : list of list of str
        One row per figure.

    Examples
    --------
    >>> from sklearn_2dbm._report import summary_rows
    >>> report = {"protocol": {"name": "dedup-split"}, "models": {}}
    >>> header, rows = summary_rows(report)
    >>> header[-1]
    'published claim (different protocol, not reproduced)'
    """
    models = report.get("models", {})
    names = [name for name in ("teacher", "student", "baseline") if name in models]
    protocol = report.get("protocol", {}).get("name", "?")
    header = [f"metric [protocol: {protocol}]"]
    header += [MODEL_TITLES[name] for name in names] + [PUBLISHED_CLAIM_HEADER]

    def row(label, key, fmt, claim=""):
        cells = [label]
        for name in names:
            cells.append(fmt(models[name].get(key)))
        return [*cells, claim]

    # The paper's accuracy and false-positive rate are binary UNSW-NB15
    # figures: next to any other dataset or target they compare unlike things.
    config = report.get("config", {})
    comparable = config.get("dataset", "unsw-nb15") == "unsw-nb15" and (
        config.get("target", "binary") == "binary"
    )
    not_comparable = "n/a (the claim is binary UNSW-NB15)"
    rows = [
        row(
            "accuracy",
            "accuracy",
            _pct,
            PUBLISHED_CLAIMS["accuracy"] if comparable else not_comparable,
        ),
        row("precision (attack)", "precision", _pct),
        row("recall (attack)", "recall", _pct),
        row("F1 (attack)", "f1", _pct),
        row(
            "false-positive rate",
            "false_positive_rate",
            _pct,
            PUBLISHED_CLAIMS["false_positive_rate"] if comparable else not_comparable,
        ),
    ]
    if any("macro_f1" in models[name] for name in names):
        rows.append(row("macro-F1 (category)", "macro_f1", _pct))
    rows += [
        row("parameters", "n_parameters", _num),
        row(
            "weights-only file (KiB)",
            "weights_file_bytes",
            lambda v: _num(v and v / 1024),
        ),
        row("training time (s)", "fit_seconds", lambda v: _num(v, "{:.1f}")),
        row(
            "batch throughput (flows/s)",
            "throughput_flows_per_second",
            _num,
        ),
        row(
            "single-flow latency median (ms)",
            "latency_median_ms",
            lambda v: _num(v, "{:.2f}"),
        ),
        row(
            "single-flow latency p99 (ms)",
            "latency_p99_ms",
            lambda v: _num(v, "{:.2f}"),
        ),
        row(
            "classifier alone, one window, median (ms)",
            "classifier_latency_median_ms",
            lambda v: _num(v, "{:.2f}"),
        ),
        row(
            "pipeline file, joblib (KiB)",
            "model_file_bytes",
            lambda v: _num(v and v / 1024),
        ),
    ]
    if "teacher" in models and "student" in models:
        teacher, student = models["teacher"], models["student"]
        param_cut = _reduction(teacher.get("n_parameters"), student.get("n_parameters"))
        latency_cut = _reduction(
            teacher.get("latency_median_ms"), student.get("latency_median_ms")
        )
        network_cut = _reduction(
            teacher.get("classifier_latency_median_ms"),
            student.get("classifier_latency_median_ms"),
        )
        for label, value, claim in (
            (
                "student parameter reduction vs teacher",
                param_cut,
                PUBLISHED_CLAIMS["parameter_reduction"],
            ),
            (
                "student latency reduction vs teacher (pipeline)",
                latency_cut,
                PUBLISHED_CLAIMS["latency_reduction"],
            ),
            (
                "student latency reduction vs teacher (classifier alone)",
                network_cut,
                PUBLISHED_CLAIMS["latency_reduction"],
            ),
        ):
            cells = [label]
            for name in names:
                cells.append(_pct(value, 1) if name == "student" else "")
            rows.append([*cells, claim])
    return header, rows


def _text_table(header, rows):
    widths = [
        max(len(str(line[i])) for line in [header, *rows]) for i in range(len(header))
    ]
    sep = "  "
    lines = [sep.join(str(h).ljust(w) for h, w in zip(header, widths))]
    lines.append(sep.join("-" * w for w in widths))
    for line in rows:
        cells = [str(line[0]).ljust(widths[0])]
        cells += [str(c).rjust(w) for c, w in zip(line[1:-1], widths[1:-1])]
        cells.append(str(line[-1]).ljust(widths[-1]))
        lines.append(sep.join(cells).rstrip())
    return "\n".join(lines)


def _markdown_table(header, rows, *, text_last=True):
    align = [" --- "] + [" ---: "] * (len(header) - 1)
    if text_last:
        align[-1] = " --- "
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for line in rows:
        lines.append("| " + " | ".join(str(c) for c in line) + " |")
    return "\n".join(lines)


def format_summary_table(report):
    """Render the comparison table of a report as fixed-width text.

    Parameters
    ----------
    report : dict
        Report produced by :func:`sklearn_2dbm._main_job.run_main_job`.

    Returns
    -------
    table : str
        The table, a title line naming the dataset, target and protocol first.

    Examples
    --------
    >>> from sklearn_2dbm._report import format_summary_table
    >>> report = {
    ...     "config": {"dataset": "unsw-nb15", "target": "binary"},
    ...     "protocol": {"name": "dedup-split"},
    ...     "models": {"baseline": {"accuracy": 0.9, "false_positive_rate": 0.1}},
    ... }
    >>> print(format_summary_table(report).splitlines()[0])
    unsw-nb15, target=binary, protocol=dedup-split
    """
    config = report.get("config", {})
    protocol = report.get("protocol", {}).get("name", "?")
    title = (
        f"{config.get('dataset', '?')}, target={config.get('target', '?')}, "
        f"protocol={protocol}"
    )
    header, rows = summary_rows(report)
    return title + "\n" + _text_table(header, rows)


def _category_rows(report):
    models = report.get("models", {})
    names = [name for name in ("teacher", "student", "baseline") if name in models]
    if not names:
        return [], []
    first = models[names[0]]
    normal = first.get("normal_category")
    categories = list(first.get("detection_rate_by_category", {}))
    support = first.get("support_by_category", {})
    header = ["category", "test flows"] + [MODEL_TITLES[name] for name in names]
    rows = []
    for category in categories:
        label = (
            f"{category} (flagged as attack: false alarms)"
            if category == normal
            else category
        )
        cells = [label, f"{support.get(category, 0):,}"]
        for name in names:
            cells.append(_pct(models[name]["detection_rate_by_category"].get(category)))
        rows.append(cells)
    return header, rows


def render_markdown(report):
    """Render a main-job report as Markdown.

    Parameters
    ----------
    report : dict
        Report produced by :func:`sklearn_2dbm._main_job.run_main_job`.

    Returns
    -------
    text : str
        Markdown document: set-up, protocol notes and warnings, the summary
        table, per-category detection rates, timings and the list of files.

    Examples
    --------
    >>> from sklearn_2dbm._report import render_markdown
    >>> text = render_markdown({"protocol": {"name": "file-order"}, "models": {}})
    >>> text.splitlines()[0]
    '# sklearn-2dbm main job report'
    """
    config = report.get("config", {})
    protocol = report.get("protocol", {})
    data = report.get("data", {})
    name = protocol.get("name", "?")
    out = ["# sklearn-2dbm main job report", ""]
    if config:
        out += ["## Set-up", ""]
        for key, value in config.items():
            out.append(f"- `{key}`: {value}")
        out.append("")
    if data:
        out += ["## Data", ""]
        for line in data.get("notes", []):
            out.append(f"- {line}")
        for key in ("n_rows_file", "n_rows_used", "n_train", "n_test"):
            if key in data:
                out.append(f"- `{key}`: {data[key]:,}")
        out.append("")
    out += [f"## Protocol: `{name}`", ""]
    if protocol.get("description"):
        out += [protocol["description"], ""]
    for warning in protocol.get("warnings", []):
        out += [f"> **Warning.** {warning}", ""]
    for note in protocol.get("notes", []):
        out.append(f"- {note}")
    if protocol.get("notes"):
        out.append("")
    out += [
        f"## Results (protocol: `{name}`)",
        "",
        "Every number below was produced by the protocol above on the test side "
        "of this run. The last column quotes the 2DBM paper, whose numbers come "
        "from a different protocol: they are shown for reference and are not "
        "reproduced here.",
        "",
    ]
    header, rows = summary_rows(report)
    out += [_markdown_table(header, rows), ""]
    for model_name, model in report.get("models", {}).items():
        if model.get("model_file_note"):
            title = MODEL_TITLES.get(model_name, model_name)
            out.append(f"- {title}: {model['model_file_note']}")
    out.append(
        "- single-flow latency: one `predict` call on one raw flow through the "
        "whole fitted pipeline (preprocessing, windowing, classifier); "
        '"classifier alone": one call on one already preprocessed window'
    )
    out.append("")
    header, rows = _category_rows(report)
    if rows:
        out += [
            f"### Detection rate by attack category (protocol: `{name}`)",
            "",
            "Fraction of each category's test flows flagged as an attack. For the "
            "normal category this is the false-alarm rate.",
            "",
            _markdown_table(header, rows, text_last=False),
            "",
        ]
    timing = report.get("timing", {})
    if timing:
        out += ["## Wall times", ""]
        for key, value in timing.items():
            out.append(f"- `{key}`: {value:.1f} s")
        out.append("")
    files = report.get("files", [])
    if files:
        out += ["## Files", ""]
        for path in files:
            out.append(f"- `{path}`")
        out.append("")
    environment = report.get("environment", {})
    if environment:
        out += ["## Environment", ""]
        for key, value in environment.items():
            out.append(f"- `{key}`: {value}")
        out.append("")
    return "\n".join(out)
