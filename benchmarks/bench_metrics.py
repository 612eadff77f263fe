"""Time FID and KID on Inception-sized features (N=10,000, D=2,048) on this machine.

python benchmarks/bench_metrics.py
"""

import time

import numpy as np

from toolkit.metrics import frechet_distance
from toolkit.metrics.kid import kernel_inception_distance

rng = np.random.default_rng(0)
a = rng.normal(size=(10_000, 2048)).astype(np.float32)
b = (rng.normal(size=(10_000, 2048)) * 1.1 + 0.1).astype(np.float32)
t = time.perf_counter()
fid = frechet_distance(a, b)
print(f"FID  N=10,000 D=2,048: {time.perf_counter() - t:6.2f} s  (value {fid:.3f})")
t = time.perf_counter()
kid = kernel_inception_distance(a, b, subsets=100, subset_size=1000)
print(f"KID  100 subsets of 1,000: {time.perf_counter() - t:6.2f} s  (value {kid[0]:.5f} ± {kid[1]:.5f})")
