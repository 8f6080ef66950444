"""Speed, size and memory of the default teacher and student.

Run with ``python benchmarks/bench_models.py``. Synthetic windows of 8 flows
with 40 features each, binary labels. Prints, for the default
:class:`BiLSTMTeacherClassifier` and :class:`DistilledStudentClassifier`:

- parameters used at inference (``n_parameters_``);
- training throughput: windows per second over ``--epochs`` epochs, after a
  warm-up fit (the student's time excludes training the teacher, which is
  passed already fitted, but includes the teacher's forward pass over the
  training windows that produces the soft targets);
- batch inference throughput: ``predict_proba`` on ``--n-predict`` windows;
- single-window latency: median and 99th percentile of ``predict_proba`` on
  one window over ``--n-latency`` calls (includes input validation);
- memory: the peak of Python-level allocations during a second, untimed
  ``fit`` measured with ``tracemalloc`` (torch's C++ tensor memory is not
  traced), and the
  process's maximum resident set size (``resource.ru_maxrss``) after each
  model, which covers everything but only ever grows.

Figures depend on the machine and its load; compare runs on the same host.
"""

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np
import torch
from sklearn.frozen import FrozenEstimator

from sklearn_2dbm import BiLSTMTeacherClassifier, DistilledStudentClassifier


def make_windows(n, window, n_features, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, window, n_features)).astype(np.float32)
    y = (X[:, -1, 0] + 0.5 * X[:, 0, 1] > 0).astype(int)
    return X, y


def max_rss_mib():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def measure(name, make_estimator, X, y, X_predict, args):
    # A first small fit and prediction pay the one-off costs (oneDNN kernel
    # set-up, lazy imports) that would otherwise land on the timed run.
    warm_up = make_estimator().fit(X[:256], y[:256])
    warm_up.predict_proba(X_predict[:256])

    estimator = make_estimator()
    start = time.perf_counter()
    estimator.fit(X, y)
    fit_seconds = time.perf_counter() - start

    # tracemalloc slows every Python allocation down, so memory is measured
    # on a separate fit rather than on the timed one.
    tracemalloc.start()
    make_estimator().fit(X, y)
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    epochs = len(estimator.history_)
    start = time.perf_counter()
    estimator.predict_proba(X_predict)
    predict_seconds = time.perf_counter() - start

    latencies = []
    for i in range(args.n_latency):
        window = X_predict[i : i + 1]
        start = time.perf_counter()
        estimator.predict_proba(window)
        latencies.append(time.perf_counter() - start)
    latencies_ms = np.array(latencies) * 1e3

    print(f"{name}")
    print(f"  parameters                 {estimator.n_parameters_:>12,d}")
    print(f"  training windows/s         {len(X) * epochs / fit_seconds:>12,.0f}")
    print(f"  batch inference windows/s  {len(X_predict) / predict_seconds:>12,.0f}")
    print(f"  1-window latency median ms {np.median(latencies_ms):>12.3f}")
    print(f"  1-window latency p99 ms    {np.percentile(latencies_ms, 99):>12.3f}")
    print(f"  fit Python peak MiB        {python_peak / 2**20:>12.1f}  (tracemalloc)")
    print(f"  process max RSS MiB        {max_rss_mib():>12.1f}  (ru_maxrss)")
    return estimator


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=4096)
    parser.add_argument("--n-predict", type=int, default=8192)
    parser.add_argument("--n-latency", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--n-features", type=int, default=40)
    args = parser.parse_args()

    X, y = make_windows(args.n_train, args.window, args.n_features, seed=0)
    X_predict, _ = make_windows(args.n_predict, args.window, args.n_features, 1)
    training = dict(max_epochs=args.epochs, early_stopping=False, random_state=0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
        f"{args.n_train} training windows of {args.window} x {args.n_features}, "
        f"{args.epochs} epochs, default architectures"
    )

    teacher = measure(
        "BiLSTMTeacherClassifier (defaults)",
        lambda: BiLSTMTeacherClassifier(**training),
        X,
        y,
        X_predict,
        args,
    )
    student = measure(
        "DistilledStudentClassifier (defaults, teacher frozen)",
        lambda: DistilledStudentClassifier(FrozenEstimator(teacher), **training),
        X,
        y,
        X_predict,
        args,
    )
    ratio = teacher.n_parameters_ / student.n_parameters_
    print(f"teacher / student parameters: {ratio:.1f}")


if __name__ == "__main__":
    main()
