"""Distillation loss terms against values worked out by hand."""

import math

import numpy as np
import pytest
import torch

from sklearn_2dbm._distill import (
    distillation_loss,
    hard_label_loss,
    intermediate_loss,
    soft_label_loss,
)


def _kl_two_classes(p, q):
    """KL(p || q) for two-class distributions p=(p, 1-p), q=(q, 1-q)."""
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.0])
def test_soft_label_loss_by_hand(temperature):
    """Teacher logits (ln 3, 0), student logits (0, 0).

    Softened by T, the teacher gives p = 3**(1/T) / (3**(1/T) + 1) for the
    first class; the student gives 1/2 whatever T. The loss is
    T**2 * KL(teacher || student). For T=1: p = 3/4 and
    KL = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.130812, for T=2: p = 0.633975 and
    4 * KL = 0.145363.
    """
    teacher = torch.tensor([[math.log(3.0), 0.0]])
    student = torch.zeros(1, 2)
    p = 3 ** (1 / temperature) / (3 ** (1 / temperature) + 1)
    expected = temperature**2 * _kl_two_classes(p, 0.5)

    loss = soft_label_loss(student, teacher, temperature)

    assert loss.item() == pytest.approx(expected, rel=1e-5)
    if temperature == 1.0:
        assert loss.item() == pytest.approx(0.130812, abs=1e-6)
    if temperature == 2.0:
        assert loss.item() == pytest.approx(0.145363, abs=1e-6)


def test_soft_label_loss_is_a_mean_over_samples():
    """Two samples: the first as above at T=1 (0.130812), the second equal
    logits on both sides (0). batchmean gives (0.130812 + 0) / 2."""
    teacher = torch.tensor([[math.log(3.0), 0.0], [1.0, -1.0]])
    student = torch.tensor([[0.0, 0.0], [1.0, -1.0]])

    loss = soft_label_loss(student, teacher, temperature=1.0)

    assert loss.item() == pytest.approx(_kl_two_classes(0.75, 0.5) / 2, rel=1e-5)


def test_soft_label_loss_three_classes():
    """Teacher (0, ln 2, ln 3) -> (1/6, 2/6, 3/6); student uniform (1/3 each).
    KL = sum p ln(3p)."""
    teacher = torch.tensor([[0.0, math.log(2.0), math.log(3.0)]])
    student = torch.zeros(1, 3)
    p = np.array([1, 2, 3]) / 6
    expected = float(np.sum(p * np.log(3 * p)))

    loss = soft_label_loss(student, teacher, temperature=1.0)

    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_hard_label_loss_by_hand():
    """Logits (0, 0) give p = 1/2, so each cross-entropy is ln 2; logits
    (ln 3, 0) with label 0 give -ln(3/4). Class weights w0=1, w1=3 average
    as (1 * ln(4/3) + 3 * ln 2) / (1 + 3)."""
    logits = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    y = torch.tensor([0, 1])

    unweighted = hard_label_loss(logits, y)
    weighted = hard_label_loss(logits, y, class_weight=torch.tensor([1.0, 3.0]))

    assert unweighted.item() == pytest.approx(
        (math.log(4 / 3) + math.log(2)) / 2, rel=1e-6
    )
    assert weighted.item() == pytest.approx(
        (math.log(4 / 3) + 3 * math.log(2)) / 4, rel=1e-6
    )


def test_intermediate_loss_by_hand():
    """Attention (1/2, 1/2) vs (1, 0): squared errors 1/4 and 1/4, mean 1/4.
    Pooled (1, 2) vs (0, 0): squared errors 1 and 4, mean 5/2. Sum 11/4."""
    loss = intermediate_loss(
        torch.tensor([[0.5, 0.5]]),
        torch.tensor([[1.0, 0.0]]),
        torch.tensor([[1.0, 2.0]]),
        torch.zeros(1, 2),
    )

    assert loss.item() == pytest.approx(2.75)


def test_distillation_loss_weights_the_three_terms():
    """hard = ln 2 (uniform student, label 1), soft at T=2 = 0.145363,
    intermediate = 11/4 (as above). Total with weights 0.2, 0.3, 0.5."""
    student_logits = torch.zeros(1, 2)
    teacher_logits = torch.tensor([[math.log(3.0), 0.0]])
    p = math.sqrt(3) / (math.sqrt(3) + 1)
    soft = 4 * _kl_two_classes(p, 0.5)
    expected = 0.2 * math.log(2) + 0.3 * soft + 0.5 * 2.75

    total, terms = distillation_loss(
        student_logits,
        torch.tensor([1]),
        teacher_logits,
        torch.tensor([[0.5, 0.5]]),
        torch.tensor([[1.0, 0.0]]),
        torch.tensor([[1.0, 2.0]]),
        torch.zeros(1, 2),
        temperature=2.0,
        hard_weight=0.2,
        soft_weight=0.3,
        intermediate_weight=0.5,
        return_terms=True,
    )

    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert terms["hard"].item() == pytest.approx(math.log(2), rel=1e-6)
    assert terms["soft"].item() == pytest.approx(soft, rel=1e-5)
    assert terms["intermediate"].item() == pytest.approx(2.75)


def test_class_weight_applies_to_the_hard_term_only():
    args = (
        torch.tensor([[0.3, -0.2]]),
        torch.tensor([0]),
        torch.tensor([[1.0, 0.0]]),
        torch.tensor([[1.0]]),
        torch.tensor([[1.0]]),
        torch.ones(1, 2),
        torch.zeros(1, 2),
    )

    _, plain = distillation_loss(*args, return_terms=True)
    _, weighted = distillation_loss(
        *args, class_weight=torch.tensor([5.0, 1.0]), return_terms=True
    )

    # One sample: a weighted mean over one sample is the sample's loss.
    assert weighted["hard"].item() == pytest.approx(plain["hard"].item())
    assert weighted["soft"].item() == plain["soft"].item()
    assert weighted["intermediate"].item() == plain["intermediate"].item()


def test_soft_term_gradient_reaches_the_student_only():
    student = torch.zeros(1, 2, requires_grad=True)
    teacher = torch.tensor([[math.log(3.0), 0.0]], requires_grad=True)

    soft_label_loss(student, teacher.detach(), 2.0).backward()

    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None
