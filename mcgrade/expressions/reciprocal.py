"""The reciprocal trigonometric and hyperbolic functions and their inverses, in numpy.

numpy has none of them; each is written through the one numpy has (sec z = 1/cos z,
asec z = acos(1/z)). Both the expression language's numpy backend and the evaluator of
sympy references (``mcgrade.engine.numeric``) use this table, keyed by the sympy name.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RECIPROCAL: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sec": lambda z: 1 / np.cos(z), "csc": lambda z: 1 / np.sin(z),
    "cot": lambda z: 1 / np.tan(z),
    "asec": lambda z: np.arccos(1 / z), "acsc": lambda z: np.arcsin(1 / z),
    # sympy's acot is real on the whole line, odd, with values in (-pi/2, pi/2]
    "acot": lambda z: np.arctan(1 / z),
    "sech": lambda z: 1 / np.cosh(z), "csch": lambda z: 1 / np.sinh(z),
    "coth": lambda z: 1 / np.tanh(z),
    "asech": lambda z: np.arccosh(1 / z), "acsch": lambda z: np.arcsinh(1 / z),
    "acoth": lambda z: np.arctanh(1 / z),
}
