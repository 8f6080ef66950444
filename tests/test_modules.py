"""The torch module: shapes, attention and training on tiny batches."""

import pytest
import torch

from sklearn_2dbm._modules import AttentionBiLSTM


@pytest.fixture
def module():
    torch.manual_seed(0)
    return AttentionBiLSTM(n_features=3, n_classes=4, hidden_size=5, num_layers=2)


def test_output_shapes(module):
    logits, attention, pooled = module(torch.randn(7, 6, 3), return_internals=True)

    assert logits.shape == (7, 4)
    assert attention.shape == (7, 6)
    assert pooled.shape == (7, 10)
    assert module.pooled_size == 10


def test_attention_is_a_distribution_and_pools_the_steps(module):
    module.eval()
    X = torch.randn(4, 5, 3)

    logits, attention, pooled = module(X, return_internals=True)

    torch.testing.assert_close(attention.sum(dim=1), torch.ones(4))
    assert (attention >= 0).all()
    steps, _ = module.lstm(X)
    expected = (attention.unsqueeze(-1) * steps).sum(dim=1)
    torch.testing.assert_close(pooled, expected)
    torch.testing.assert_close(logits, module.head(pooled))


def test_plain_forward_returns_the_same_logits(module):
    module.eval()
    X = torch.randn(3, 2, 3)

    torch.testing.assert_close(module(X), module(X, return_internals=True)[0])


def test_batch_of_one_window_trains(module):
    before = [p.detach().clone() for p in module.parameters()]
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    module.train()

    loss = torch.nn.functional.cross_entropy(
        module(torch.randn(1, 4, 3)), torch.tensor([2])
    )
    loss.backward()
    optimizer.step()

    changed = [not torch.equal(b, p) for b, p in zip(before, module.parameters())]
    assert all(changed)


def test_single_layer_has_no_inter_layer_dropout(recwarn):
    module = AttentionBiLSTM(n_features=2, n_classes=2, num_layers=1, dropout=0.5)

    assert module.lstm.dropout == 0.0
    assert module.head_dropout.p == 0.5
    assert not [w for w in recwarn if "dropout" in str(w.message)]


def test_attention_size_defaults_to_hidden_size():
    default = AttentionBiLSTM(n_features=2, n_classes=2, hidden_size=6)
    explicit = AttentionBiLSTM(2, 2, hidden_size=6, attention_size=3)

    assert default.attention_projection.out_features == 6
    assert explicit.attention_projection.out_features == 3


def test_inter_layer_dropout_is_separate_from_head_dropout():
    module = AttentionBiLSTM(
        n_features=2, n_classes=2, num_layers=2, dropout=0.3, lstm_dropout=0.1
    )

    assert module.lstm.dropout == 0.1
    assert module.head_dropout.p == 0.3
    assert AttentionBiLSTM(n_features=2, n_classes=2, num_layers=2).lstm.dropout == 0


def test_estimator_passes_lstm_dropout_to_the_module():
    import numpy as np

    from sklearn_2dbm import BiLSTMTeacherClassifier

    X = np.random.default_rng(0).normal(size=(20, 3, 2)).astype(np.float32)
    y = np.arange(20) % 2
    clf = BiLSTMTeacherClassifier(
        hidden_size=2, lstm_dropout=0.25, max_epochs=1, early_stopping=False
    ).fit(X, y)

    assert clf.module_.lstm.dropout == 0.25
