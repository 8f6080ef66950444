"""
Grid search over the teacher and the student
=============================================

Every architecture knob of the classifiers is a constructor argument, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them like any other
scikit-learn parameter, inside a :class:`~sklearn.pipeline.Pipeline`.

The search runs in two stages, as distillation does: first the teacher
(window length and width), then the student distilled from the best teacher.
The teacher is wrapped in :class:`~sklearn.frozen.FrozenEstimator`, so the
student's search never refits it.
"""

# %%
# Data
# ----
# A stratified sample of real UNSW-NB15 flows (synthetic flows when the data
# folder is missing), split once into training and test flows with no
# duplicate on both sides. The rows have no real order, so windows carry no
# label information.
import os
import warnings

import pandas as pd
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
    DistilledStudentClassifier,
    DuplicateAwareStratifiedKFold,
    FlowPreprocessor,
    FlowWindower,
    dedup_train_test_split,
)
from sklearn_2dbm.datasets import load_unsw_nb15
from sklearn_2dbm.exceptions import UnknownCategoryWarning

QUICK = os.environ.get("SKLEARN_2DBM_QUICK") == "1"

# Rare protocol values that a small training fold never saw are grouped into
# an "infrequent" indicator; the warning about it would repeat in every fold.
warnings.simplefilter("ignore", UnknownCategoryWarning)
n_rows = 1200 if QUICK else 3000
epochs = 3 if QUICK else 6

try:
    X_all, y_all = load_unsw_nb15(return_X_y=True)
except FileNotFoundError as exc:
    print(f"UNSW-NB15 not found, using synthetic flows instead ({exc})")
    features, labels = make_classification(n_samples=20_000, random_state=0)
    X_all, y_all = pd.DataFrame(features).add_prefix("f"), pd.Series(labels)

X, _, y, _ = train_test_split(
    X_all, y_all, train_size=n_rows, stratify=y_all, random_state=0
)
X_train, X_test, y_train, y_test = dedup_train_test_split(X, y, random_state=0)

# %%
# Stage 1: the teacher
# --------------------
# ``window__window`` reaches the windower, ``teacher__hidden_size`` the
# network: nested parameters, as for any pipeline.
teacher_pipeline = Pipeline(
    [
        ("preprocess", FlowPreprocessor()),
        ("window", FlowWindower()),
        (
            "teacher",
            BiLSTMTeacherClassifier(
                max_epochs=epochs,
                batch_size=64,
                early_stopping=False,
                n_threads=1,
                random_state=0,
            ),
        ),
    ]
)
teacher_search = GridSearchCV(
    teacher_pipeline,
    {"window__window": [1, 4], "teacher__hidden_size": [8, 16]},
    cv=DuplicateAwareStratifiedKFold(n_splits=2, random_state=0),
    scoring="f1",
)
teacher_search.fit(X_train, y_train)
print("Best teacher parameters:", teacher_search.best_params_)
best = teacher_search.best_estimator_

# %%
# Stage 2: the student
# --------------------
# The student reads the teacher's windows, so the fitted preprocessing and
# windowing steps of the best teacher pipeline turn the flows into windows
# once; the student's grid then runs on those windows.
windows_train = best[:-1].transform(X_train)
student_search = GridSearchCV(
    DistilledStudentClassifier(
        teacher=FrozenEstimator(best[-1]),
        max_epochs=epochs,
        batch_size=64,
        early_stopping=False,
        n_threads=1,
        random_state=0,
    ),
    {"hidden_size": [4, 8], "temperature": [2.0, 4.0]},
    cv=DuplicateAwareStratifiedKFold(n_splits=2, random_state=0),
    scoring="f1",
)
student_search.fit(windows_train, y_train)
print("Best student parameters:", student_search.best_params_)

student = Pipeline([*best.steps[:-1], ("student", student_search.best_estimator_)])
teacher_f1 = teacher_search.score(X_test, y_test)
student_f1 = student_search.score(best[:-1].transform(X_test), y_test)
print(f"Held-out F1: teacher {teacher_f1:.3f}, student {student_f1:.3f}")
print(
    f"Parameters: teacher {best[-1].n_parameters_:,}, "
    f"student {student[-1].n_parameters_:,}"
)

# %%
# The two grids
# -------------
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for ax, search, title in (
    (axes[0], teacher_search, "teacher"),
    (axes[1], student_search, "student"),
):
    table = pd.DataFrame(search.cv_results_)
    labels = [
        ", ".join(f"{k.split('__')[-1]}={v}" for k, v in params.items())
        for params in table["params"]
    ]
    ax.barh(labels, table["mean_test_score"], xerr=table["std_test_score"])
    ax.set_xlabel("mean cross-validated F1")
    ax.set_title(f"{title} grid")
    ax.tick_params(axis="y", labelsize=8)
plt.show()
