"""
Rare attack categories: samplers and class weights
===================================================

With one class per attack category, UNSW-NB15 is very imbalanced: Worms are
0.05% of the flows, Normal 45%. This example compares three ways to train the
BiLSTM teacher on such data, scored by the recall of each category:

* no correction;
* ``class_weight="balanced"``, which weighs the loss by inverse frequency;
* an :class:`imblearn.pipeline.Pipeline` with a
  :class:`~imblearn.over_sampling.RandomOverSampler` placed **after** the
  windowing step, so that whole windows are resampled and only at fit time.

The windower returns a DataFrame whose column names carry the window shape,
and the sampler keeps those names, so the classifier still reads sequences.
"""

# %%
# Data
# ----
import os
import warnings

import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import make_pipeline
from sklearn.datasets import make_classification
from sklearn.metrics import recall_score
from sklearn.model_selection import train_test_split

from sklearn_2dbm import (
    BiLSTMTeacherClassifier,
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
n_rows = 1500 if QUICK else 4000
epochs = 5 if QUICK else 10

try:
    X_all, y_all = load_unsw_nb15(return_X_y=True, target="category")
except FileNotFoundError as exc:
    print(f"UNSW-NB15 not found, using synthetic flows instead ({exc})")
    features, labels = make_classification(
        n_samples=20_000,
        n_classes=4,
        n_informative=6,
        weights=[0.7, 0.2, 0.08, 0.02],
        random_state=0,
    )
    X_all = pd.DataFrame(features).add_prefix("f")
    y_all = pd.Series(np.array(["Normal", "DoS", "Exploits", "Worms"])[labels])

X, _, y, _ = train_test_split(
    X_all, y_all, train_size=n_rows, stratify=y_all, random_state=0
)
X_train, X_test, y_train, y_test = dedup_train_test_split(X, y, random_state=0)
print(y_train.value_counts().to_string())


# %%
# Three pipelines
# ---------------
def teacher(**kwargs):
    return BiLSTMTeacherClassifier(
        hidden_size=16,
        max_epochs=epochs,
        batch_size=64,
        early_stopping=False,
        n_threads=1,
        random_state=0,
        **kwargs,
    )


pipelines = {
    "no correction": make_pipeline(
        FlowPreprocessor(), FlowWindower(window=4), teacher()
    ),
    "class_weight='balanced'": make_pipeline(
        FlowPreprocessor(), FlowWindower(window=4), teacher(class_weight="balanced")
    ),
    "oversampled windows": make_pipeline(
        FlowPreprocessor(),
        FlowWindower(window=4),
        RandomOverSampler(random_state=0),
        teacher(),
    ),
}

labels = sorted(y_test.unique())
recalls = {}
for name, pipeline in pipelines.items():
    predicted = pipeline.fit(X_train, y_train).predict(X_test)
    recalls[name] = recall_score(
        y_test, predicted, labels=labels, average=None, zero_division=0
    )
    print(f"{name}: macro recall {recalls[name].mean():.3f}")

# %%
# Recall of each category
# -----------------------
# The test split keeps duplicates on one side, so a rare category may have
# only a handful of test flows: read its bar as an indication, not a figure.
import matplotlib.pyplot as plt

support = y_test.value_counts()
positions = np.arange(len(labels))
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
for k, (name, values) in enumerate(recalls.items()):
    ax.barh(positions + (k - 1) * 0.27, values, height=0.27, label=name)
ax.set_yticks(positions, [f"{c} ({support.get(c, 0)})" for c in labels])
ax.invert_yaxis()
ax.set_xlabel("recall on the test flows (test support in brackets)")
ax.legend(fontsize=8)
plt.show()
