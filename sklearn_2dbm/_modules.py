"""Torch modules behind the classifiers."""

import torch
from torch import nn

__all__ = ["AttentionBiLSTM"]


class AttentionBiLSTM(nn.Module):
    """Stacked bidirectional LSTM with temporal attention and a linear head.

    The LSTM reads a window of flows, one time step per flow (oldest first).
    Each step's output ``h_t`` (size ``2 * hidden_size``, both directions
    concatenated) gets a score ``v . tanh(W h_t + b)``; a softmax over the
    steps turns the scores into attention weights ``a_t`` and the pooled
    vector ``sum_t a_t h_t`` goes through dropout and a linear layer that
    returns one logit per class.

    The module holds no batch normalisation, so a batch of a single window
    trains and predicts like any other.

    Parameters
    ----------
    n_features : int
        Number of flow features per time step.
    n_classes : int
        Number of output logits.
    hidden_size : int, default=64
        Hidden units of each LSTM direction.
    num_layers : int, default=2
        Number of stacked bidirectional LSTM layers.
    dropout : float, default=0.2
        Dropout on the pooled vector, before the linear head.
    attention_size : int, default=None
        Width of the attention scoring layer. ``None`` uses ``hidden_size``.
    lstm_dropout : float, default=0.0
        Dropout between stacked LSTM layers (only when ``num_layers > 1``).
        On the CPU any value above zero makes PyTorch leave its fused oneDNN
        LSTM kernel, and training becomes an order of magnitude slower.

    Examples
    --------
    >>> import torch
    >>> from sklearn_2dbm._modules import AttentionBiLSTM
    >>> _ = torch.manual_seed(0)
    >>> module = AttentionBiLSTM(n_features=3, n_classes=2, hidden_size=4)
    >>> logits, attention, pooled = module(torch.zeros(5, 6, 3), return_internals=True)
    >>> tuple(logits.shape), tuple(attention.shape), tuple(pooled.shape)
    ((5, 2), (5, 6), (5, 8))
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_size=64,
        num_layers=2,
        dropout=0.2,
        attention_size=None,
        lstm_dropout=0.0,
    ):
        super().__init__()
        attention_size = hidden_size if attention_size is None else attention_size
        self.lstm = nn.LSTM(
            input_size=n_features,
            hidden_size=hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            # torch warns about inter-layer dropout on a single layer.
            dropout=lstm_dropout if num_layers > 1 else 0.0,
        )
        self.attention_projection = nn.Linear(2 * hidden_size, attention_size)
        self.attention_vector = nn.Linear(attention_size, 1, bias=False)
        self.head_dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden_size, n_classes)

    @property
    def pooled_size(self):
        """Size of the pooled vector, ``2 * hidden_size``."""
        return self.head.in_features

    def forward(self, X, return_internals=False):
        """Return class logits for a batch of windows.

        Parameters
        ----------
        X : torch.Tensor of shape (n_windows, window, n_features)
            Windows, oldest step first.
        return_internals : bool, default=False
            Also return the attention weights and the pooled vector.

        Returns
        -------
        logits : torch.Tensor of shape (n_windows, n_classes)
        attention : torch.Tensor of shape (n_windows, window)
            Only when ``return_internals=True``. Rows sum to one.
        pooled : torch.Tensor of shape (n_windows, 2 * hidden_size)
            Only when ``return_internals=True``.
        """
        steps, _ = self.lstm(X)
        scores = self.attention_vector(torch.tanh(self.attention_projection(steps)))
        attention = torch.softmax(scores.squeeze(-1), dim=1)
        pooled = torch.bmm(attention.unsqueeze(1), steps).squeeze(1)
        logits = self.head(self.head_dropout(pooled))
        if return_internals:
            return logits, attention, pooled
        return logits
