"""
Save a pipeline, score new flows in another process
====================================================

A fitted pipeline (preprocessing, windowing, distilled student) is saved
with :func:`joblib.dump` and loaded by a separate Python process, which
scores a CSV of new flows. The same file works with the command line::

    sklearn-2dbm predict --model student.joblib --input flows.csv --output scored.csv

:func:`~sklearn_2dbm.save_weights` offers a second format: the network's
weights and settings only, read back without unpickling any code.
"""

# %%
# Fit a student pipeline
# ----------------------
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
    DistilledStudentClassifier,
    FlowPreprocessor,
    FlowWindower,
    load_weights,
    save_weights,
)
from sklearn_2dbm.datasets import load_unsw_nb15
from sklearn_2dbm.exceptions import UnknownCategoryWarning

QUICK = os.environ.get("SKLEARN_2DBM_QUICK") == "1"

# Rare protocol values that a small training fold never saw are grouped into
# an "infrequent" indicator; the warning about it would repeat in every fold.
warnings.simplefilter("ignore", UnknownCategoryWarning)
n_rows = 1200 if QUICK else 3000

try:
    X_all, y_all = load_unsw_nb15(return_X_y=True)
except FileNotFoundError as exc:
    print(f"UNSW-NB15 not found, using synthetic flows instead ({exc})")
    features, labels = make_classification(n_samples=20_000, random_state=0)
    X_all, y_all = pd.DataFrame(features).add_prefix("f"), pd.Series(labels)

X, X_new, y, _ = train_test_split(
    X_all, y_all, train_size=n_rows, test_size=200, stratify=y_all, random_state=0
)

# Given an unfitted teacher, the student fits it first, then learns from it.
epochs = 3 if QUICK else 6
teacher = BiLSTMTeacherClassifier(
    hidden_size=16, max_epochs=epochs, batch_size=64, n_threads=1, random_state=0
)
pipeline = make_pipeline(
    FlowPreprocessor(),
    FlowWindower(window=4),
    DistilledStudentClassifier(
        teacher,
        hidden_size=8,
        max_epochs=epochs,
        batch_size=64,
        early_stopping=False,
        n_threads=1,
        random_state=0,
    ),
)
pipeline.fit(X, y)

# %%
# Save it, and score new flows in a fresh process
# -----------------------------------------------
folder = Path(tempfile.mkdtemp())
model_file = folder / "student.joblib"
joblib.dump(pipeline, model_file)
X_new.to_csv(folder / "flows.csv", index=False)

scorer = """
import sys
import joblib
import pandas as pd

import warnings

pipeline = joblib.load(sys.argv[1])
flows = pd.read_csv(sys.argv[2], dtype={"proto": str, "service": str, "state": str})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    proba = pipeline.predict_proba(flows)[:, 1]
# New flows may use protocols the model never saw; say so in the log.
for warning in caught:
    print(f"scorer: {warning.category.__name__}: {str(warning.message)[:100]}...")
pd.Series(proba, name="attack_probability").to_csv(sys.argv[3], index=False)
"""
scored = subprocess.run(
    [
        sys.executable,
        "-c",
        scorer,
        str(model_file),
        str(folder / "flows.csv"),
        str(folder / "scores.csv"),
    ],
    check=True,
    capture_output=True,
    text=True,
)
print(scored.stdout, end="")
other_process = pd.read_csv(folder / "scores.csv")["attack_probability"].to_numpy()
this_process = pipeline.predict_proba(X_new)[:, 1]
print(
    "Scores from the other process match:",
    bool(np.allclose(other_process, this_process, atol=1e-6)),
)

# %%
# Weights only
# ------------
# The joblib file holds the whole pipeline, and the student carries its
# teacher (needed to refit or clone it). ``save_weights`` writes the
# student's network alone; the preprocessing steps are saved separately.
weights_file = folder / "student.pt"
save_weights(pipeline[-1], weights_file)
joblib.dump(pipeline[:-1], folder / "preprocessing.joblib")

student = load_weights(weights_file)
windows = pipeline[:-1].transform(X_new)
same = np.allclose(student.predict_proba(windows), pipeline.predict_proba(X_new))
print("Weights-only student predicts the same:", bool(same))

sizes = {
    "pipeline (joblib)": model_file.stat().st_size,
    "student weights": weights_file.stat().st_size,
    "preprocessing (joblib)": (folder / "preprocessing.joblib").stat().st_size,
}
for name, size in sizes.items():
    print(f"{name}: {size / 1024:.0f} KiB")

# %%
# File sizes
# ----------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 2.6), layout="constrained")
ax.barh(list(sizes), [size / 1024 for size in sizes.values()])
ax.set_xlabel("KiB")
ax.set_title("What each saved file weighs")
plt.show()
