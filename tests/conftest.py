"""Shared pytest configuration.

torch is the oracle: tests compute expected values with torch (float64) at
test time, never paste its output as constants.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def rng():
    """A fresh, seeded numpy Generator for each test."""
    return np.random.default_rng(0)
