#!/usr/bin/env python3
"""Reference assignments from scipy.optimize.linear_sum_assignment for LinearSumAssignmentTests.

Run with any Python that has numpy and scipy (the pyenv python3 here does):
    python3 Tests/Fixtures/matching/generate.py
Cases: random float costs (square, tall, wide, empty), integer costs with many ties, DETR-like
float32 costs. Writes cases.json (costs as float64 lists, expected row/col indices).
"""
import json
import os

import numpy as np
from scipy.optimize import linear_sum_assignment

rng = np.random.default_rng(2024)
cases = []
shapes = [(1, 1), (3, 3), (5, 2), (2, 5), (7, 7), (30, 4), (4, 30), (100, 6), (0, 3), (3, 0), (12, 12)]
for rows, cols in shapes:
    for kind in ("float", "int", "float32"):
        if kind == "float":
            c = rng.normal(size=(rows, cols))
        elif kind == "int":
            c = rng.integers(0, 4, size=(rows, cols)).astype(np.float64)
        else:
            c = (rng.random((rows, cols)) * 7 - 2).astype(np.float32).astype(np.float64)
        r, k = linear_sum_assignment(c)
        cases.append({"rows": rows, "cols": cols, "cost": c.ravel().tolist(), "row": r.tolist(), "col": k.tolist()})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases.json"), "w") as f:
    json.dump({"scipy": __import__("scipy").__version__, "cases": cases}, f)
