"""Teacher, student and the three distillation terms of 2DBM, as a diagram.

Run by the matplotlib ``plot`` directive when the documentation is built; the
image goes to the build folder only.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from sklearn_2dbm import BiLSTMTeacherClassifier, DistilledStudentClassifier

# The sizes written in the boxes are the defaults of the installed classes.
TEACHER = BiLSTMTeacherClassifier().get_params()
STUDENT = DistilledStudentClassifier().get_params()

TEACHER_COLOR = "#c9daf8"
STUDENT_COLOR = "#d9ead3"
INPUT_COLOR = "#eeeeee"
LOSS_COLOR = "#b45f06"


def box(ax, x, y, width, height, text, color, **text_kw):
    """Draw a rounded box centred on (x, y) with a label inside."""
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle="round,pad=0.02,rounding_size=0.08",
        facecolor=color,
        edgecolor="#444444",
        linewidth=1,
    )
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", **text_kw)


def arrow(ax, start, end, color="#444444", style="-|>", dashed=False, **kw):
    """Draw an arrow from start to end (data coordinates)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle=style,
            mutation_scale=12,
            color=color,
            linewidth=1.6 if dashed else 1.1,
            linestyle=(0, (4, 3)) if dashed else "-",
            shrinkA=2,
            shrinkB=2,
            **kw,
        )
    )


fig, ax = plt.subplots(figsize=(9.5, 7.6))
ax.set_xlim(0, 10)
ax.set_ylim(-0.3, 10.8)
ax.set_axis_off()

# The input: one window of consecutive flows, the last one carrying the label.
steps = ["t-3", "t-2", "t-1", "t-0"]
for i, name in enumerate(steps):
    x = 3.8 + 0.8 * i
    last = name == "t-0"
    box(
        ax,
        x,
        0.55,
        0.62,
        0.6,
        name,
        "#f4cccc" if last else INPUT_COLOR,
        fontweight="bold" if last else "normal",
    )
ax.text(
    5.0,
    -0.15,
    "one window = the last w flows (here w = 4); it is labelled with its last "
    "flow, t-0",
    ha="center",
    va="center",
    fontsize=8.5,
)
ax.text(
    5.0,
    1.15,
    "FlowPreprocessor + FlowWindower",
    ha="center",
    va="center",
    fontsize=8.5,
    style="italic",
)

# Teacher (left) and student (right) columns.
tx, sx = 1.9, 8.1
levels = {"lstm": 2.9, "attention": 5.0, "pooled": 6.6, "logits": 8.2}
box(
    ax,
    tx,
    levels["lstm"],
    2.6,
    1.5,
    "\n".join(f"BiLSTM layer {i + 1}" for i in range(TEACHER["num_layers"]))
    + f"\n({TEACHER['hidden_size']} units per direction)",
    TEACHER_COLOR,
)
box(
    ax,
    sx,
    levels["lstm"],
    2.0,
    1.0,
    f"small BiLSTM, {STUDENT['num_layers']} "
    f"layer{'s' if STUDENT['num_layers'] > 1 else ''}\n"
    f"({STUDENT['hidden_size']} units per direction)",
    STUDENT_COLOR,
)
for x, color, width in ((tx, TEACHER_COLOR, 2.6), (sx, STUDENT_COLOR, 2.0)):
    box(
        ax,
        x,
        levels["attention"],
        width,
        0.8,
        "attention over the w steps\nweights a(t-3) ... a(t-0)",
        color,
    )
    box(
        ax,
        x,
        levels["pooled"],
        width,
        0.7,
        "pooled hidden state\n(attention-weighted sum)",
        color,
    )
    box(ax, x, levels["logits"], width, 0.7, "dense layer -> class scores", color)
    for lower, upper in (
        ("lstm", "attention"),
        ("attention", "pooled"),
        ("pooled", "logits"),
    ):
        low_h = 1.5 if (lower == "lstm" and x == tx) else 0.8
        low_h = 1.0 if (lower == "lstm" and x == sx) else low_h
        low_h = 0.7 if lower == "pooled" else low_h
        arrow(
            ax,
            (x, levels[lower] + low_h / 2),
            (x, levels[upper] - 0.4),
        )

ax.text(tx, 10.0, "TEACHER", ha="center", fontsize=12, fontweight="bold")
ax.text(tx, 9.55, "trained first, then kept fixed", ha="center", fontsize=8.5)
ax.text(
    sx, 10.0, "STUDENT (what you deploy)", ha="center", fontsize=12, fontweight="bold"
)

# The same window feeds both networks.
arrow(ax, (3.6, 0.9), (tx + 0.4, levels["lstm"] - 0.78))
arrow(ax, (6.4, 0.9), (sx - 0.3, levels["lstm"] - 0.52))

# The three distillation terms, all pulling the student towards the teacher.
terms = [
    (
        levels["logits"],
        "(2) soft-label term",
        "match the teacher's probabilities,\nboth softened by the temperature",
    ),
    (
        levels["pooled"],
        "(3) intermediate term",
        "match the teacher's pooled hidden\nstate (student's projected first)",
    ),
    (
        levels["attention"],
        "(3) intermediate term",
        "match the teacher's\nattention weights",
    ),
]
for y, title, text in terms:
    arrow(
        ax,
        (tx + 1.32, y),
        (sx - 1.02, y),
        color=LOSS_COLOR,
        dashed=True,
    )
    ax.text(5.0, y + 0.38, title, ha="center", color=LOSS_COLOR, fontweight="bold")
    ax.text(5.0, y - 0.42, text, ha="center", va="center", fontsize=8, color=LOSS_COLOR)

# The hard-label term: the student also learns from the true labels.
box(ax, sx, 9.45, 2.0, 0.5, "true label of flow t-0", "#f4cccc", fontsize=8.5)
arrow(
    ax,
    (sx, 9.2),
    (sx, levels["logits"] + 0.37),
    color=LOSS_COLOR,
    dashed=True,
)
ax.text(
    sx - 0.12,
    8.85,
    "(1) hard-label term",
    ha="right",
    va="center",
    color=LOSS_COLOR,
    fontweight="bold",
)

ax.text(
    5.0,
    10.5,
    "student loss = hard_weight x (1) + soft_weight x (2) + intermediate_weight x (3)",
    ha="center",
    va="center",
    color=LOSS_COLOR,
    fontsize=10,
    bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": LOSS_COLOR},
)

fig.tight_layout()
