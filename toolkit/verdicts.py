"""Whether a claimed difference held over several seeds: held, did not hold, or within noise.

A lesson's claim compares two methods ("with the cycle loss the round trip reconstructs better"). Measured
once, any difference looks like a result. Measured over seeds, each seed gives one *paired* difference (both
methods trained with that seed, scored on the same test set), written so that the claim says it is > 0.
The claim

* **held** when the difference is > 0 on every seed and its mean is more than twice its standard error
  (``2 * sd / sqrt(seeds)``, the sd of the per-seed differences);
* **did not hold** when the same is true the other way (< 0 on every seed, mean below minus the margin);
* is **within noise** otherwise: the seeds disagree, or they agree but the spread is as large as the effect.

With three seeds the margin is ``1.15 sd``: a small difference that every seed shows passes, a large one
driven by a single seed does not. One seed has no spread and gets no verdict.
"""

from __future__ import annotations

import math
import statistics

HELD, DID_NOT_HOLD, WITHIN_NOISE, ONE_SEED = "held", "did not hold", "within noise", "one seed: no verdict"


def paired_verdict(differences: list[float]) -> dict:
    """``{"mean", "sd", "verdict"}`` of per-seed differences claimed to be > 0 (see the module text)."""
    if not differences:
        raise ValueError("paired_verdict needs at least one per-seed difference; got none")
    mean = statistics.mean(differences)
    if len(differences) < 2:
        return {"mean": mean, "sd": None, "verdict": ONE_SEED}
    sd = statistics.stdev(differences)
    margin = 2 * sd / math.sqrt(len(differences))
    if all(d > 0 for d in differences) and mean > margin:
        word = HELD
    elif all(d < 0 for d in differences) and mean < -margin:
        word = DID_NOT_HOLD
    else:
        word = WITHIN_NOISE
    return {"mean": mean, "sd": sd, "verdict": word}


def mean_sd(values: list[float], digits: int = 2) -> str:
    """``"1.23 ± 0.04"`` over seeds (the sample sd), or the one value."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"
