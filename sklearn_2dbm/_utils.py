"""Small helpers shared by several modules."""

import numbers

import numpy as np
from sklearn.utils import check_random_state


def local_random_state(random_state):
    """Return a ``RandomState`` that never draws from NumPy's global one.

    ``None`` gives a generator seeded from fresh OS entropy, unlike
    :func:`sklearn.utils.check_random_state`, which returns the global
    singleton and so moves the caller's global random state.
    """
    if random_state is None:
        return np.random.RandomState(draw_seed(None))
    return check_random_state(random_state)


def draw_seed(random_state):
    """An int seed from ``random_state`` without touching global RNG state."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(2**31 - 1))
