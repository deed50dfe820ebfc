"""Digests of values (mcgrade.engine.digest): an answer equal to the reference within about
the set's tolerance digests alike wherever a point was published, and one off by a cell
does not."""

from __future__ import annotations

import numpy as np

from mcgrade.engine.digest import bits_for, grid_for, value_digest

BITS, ZERO = bits_for(1e-6), 1e-12


def test_float_noise_within_the_margin_never_changes_a_published_digest() -> None:
    rng = np.random.default_rng(7)
    published = 0
    for _ in range(2000):
        value = rng.uniform(-3, 3, (3, 2)) * 10.0 ** rng.integers(-4, 5)
        grid = grid_for(value, BITS, ZERO)
        if grid is None:
            continue
        published += 1
        digest = value_digest("at", value, BITS, ZERO, grid)
        # an answer computed in float32, or printed to seven digits: relative error up to
        # 2^-(bits+2), an eighth of the tolerance's cell at the least
        noise = rng.uniform(-1, 1, value.shape) * 2.0 ** -(BITS + 2)
        assert value_digest("at", value * (1 + noise), BITS, ZERO, grid) == digest
    assert published > 1900          # almost every point has a grid for every entry


def test_an_answer_off_by_more_than_a_cell_digests_apart() -> None:
    value = np.array([[0.75], [1.3125]])
    grid = grid_for(value, BITS, ZERO)
    assert grid is not None
    off = value * (1 + np.array([[0.0], [4 * 2.0 ** -BITS]]))
    assert value_digest("at", off, BITS, ZERO, grid) != value_digest("at", value, BITS, ZERO,
                                                                        grid)


def test_a_copy_published_before_grids_reads_as_the_first_grid() -> None:
    value = np.array([[0.1, -2.5]])
    assert value_digest("at", value, BITS, ZERO, "") == value_digest("at", value, BITS, ZERO,
                                                                        "0")
