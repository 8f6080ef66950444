"""Loss functions of the dual (output + intermediate) distillation."""

from torch.nn import functional as F

__all__ = [
    "hard_label_loss",
    "soft_label_loss",
    "intermediate_loss",
    "distillation_loss",
]


def hard_label_loss(student_logits, y, class_weight=None):
    """Cross-entropy of the student's logits against the true labels.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    y : torch.Tensor of shape (n_samples,)
        Encoded labels ``0 .. n_classes - 1``.
    class_weight : torch.Tensor of shape (n_classes,), default=None
        Per-class weights. The mean is weighted, as in
        :class:`torch.nn.CrossEntropyLoss`.

    Returns
    -------
    loss : torch.Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sklearn_2dbm._distill import hard_label_loss
    >>> float(hard_label_loss(torch.zeros(3, 2), torch.tensor([0, 1, 1])))
    0.693...
    """
    return F.cross_entropy(student_logits, y.long(), weight=class_weight)


def soft_label_loss(student_logits, teacher_logits, temperature):
    """Kullback-Leibler divergence between softened teacher and student outputs.

    Both sets of logits are divided by ``temperature`` before the softmax.
    The divergence ``KL(teacher || student)`` is summed over classes,
    averaged over samples and multiplied by ``temperature ** 2``, which keeps
    its gradients on the scale of the hard-label term when the temperature
    changes.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
    temperature : float
        Softening temperature, > 0.

    Returns
    -------
    loss : torch.Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sklearn_2dbm._distill import soft_label_loss
    >>> logits = torch.tensor([[2.0, -1.0]])
    >>> float(soft_label_loss(logits, logits, temperature=4.0))
    0.0
    """
    student_log_proba = F.log_softmax(student_logits / temperature, dim=1)
    teacher_log_proba = F.log_softmax(teacher_logits / temperature, dim=1)
    divergence = F.kl_div(
        student_log_proba, teacher_log_proba, reduction="batchmean", log_target=True
    )
    return divergence * temperature**2


def intermediate_loss(
    student_attention, teacher_attention, student_pooled, teacher_pooled
):
    """Match attention weights and pooled representations.

    Returns the mean squared error between the attention weights (averaged
    over samples and time steps) plus the mean squared error between the
    pooled vectors (averaged over samples and dimensions). The student's
    pooled vector must already be projected to the teacher's size.

    Parameters
    ----------
    student_attention, teacher_attention : torch.Tensor of shape \
            (n_samples, window)
    student_pooled, teacher_pooled : torch.Tensor of shape (n_samples, size)

    Returns
    -------
    loss : torch.Tensor, scalar

    Examples
    --------
    >>> import torch
    >>> from sklearn_2dbm._distill import intermediate_loss
    >>> attention = torch.full((2, 4), 0.25)
    >>> pooled_student, pooled_teacher = torch.ones(2, 3), torch.zeros(2, 3)
    >>> float(intermediate_loss(attention, attention, pooled_student, pooled_teacher))
    1.0
    """
    attention_term = F.mse_loss(student_attention, teacher_attention)
    pooled_term = F.mse_loss(student_pooled, teacher_pooled)
    return attention_term + pooled_term


def distillation_loss(
    student_logits,
    y,
    teacher_logits,
    student_attention,
    teacher_attention,
    student_pooled,
    teacher_pooled,
    *,
    temperature=4.0,
    hard_weight=0.5,
    soft_weight=0.5,
    intermediate_weight=1.0,
    class_weight=None,
    return_terms=False,
):
    """Weighted sum of the hard-label, soft-label and intermediate terms.

    ``total = hard_weight * hard + soft_weight * soft
    + intermediate_weight * intermediate``, with the terms of
    :func:`hard_label_loss`, :func:`soft_label_loss` and
    :func:`intermediate_loss`. Class weights apply to the hard term only.

    Parameters
    ----------
    student_logits, teacher_logits : torch.Tensor of shape (n_samples, n_classes)
    y : torch.Tensor of shape (n_samples,)
    student_attention, teacher_attention : torch.Tensor of shape \
            (n_samples, window)
    student_pooled, teacher_pooled : torch.Tensor of shape (n_samples, size)
        The student's pooled vector already projected to the teacher's size.
    temperature : float, default=4.0
    hard_weight, soft_weight, intermediate_weight : float
        Weights of the three terms.
    class_weight : torch.Tensor of shape (n_classes,), default=None
    return_terms : bool, default=False
        Also return the three unweighted terms in a dict.

    Returns
    -------
    loss : torch.Tensor, scalar
    terms : dict of str to torch.Tensor
        Only when ``return_terms=True``: keys ``"hard"``, ``"soft"``,
        ``"intermediate"``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_2dbm._distill import distillation_loss
    >>> logits, y = torch.zeros(2, 3), torch.tensor([0, 2])
    >>> attention, pooled = torch.ones(2, 1), torch.zeros(2, 4)
    >>> loss = distillation_loss(
    ...     logits, y, logits, attention, attention, pooled, pooled
    ... )
    >>> round(float(loss), 4)  # 0.5 * log(3)
    0.5493
    """
    terms = {
        "hard": hard_label_loss(student_logits, y, class_weight=class_weight),
        "soft": soft_label_loss(student_logits, teacher_logits, temperature),
        "intermediate": intermediate_loss(
            student_attention, teacher_attention, student_pooled, teacher_pooled
        ),
    }
    total = (
        hard_weight * terms["hard"]
        + soft_weight * terms["soft"]
        + intermediate_weight * terms["intermediate"]
    )
    if return_terms:
        return total, terms
    return total
