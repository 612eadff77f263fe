"""Print the mutation score of each module after `mutmut run` (see `make mutation`, docs/testing.md).

A mutant is one small change to the code (`+` to `-`, `2` to `3`, an argument dropped, ...). It is *killed*
when a test fails on it and *survives* when every test still passes ("no tests" when no selected test even
reaches it). Score = killed / (mutants tested), per module; mutants not tested yet (a run stopped early) are
counted apart and left out of the score. The survivors are listed so each can be read with `mutmut show NAME`
and either killed by a new test or explained (an equivalent mutant, one that cannot change behaviour) in
docs/testing.md.
"""

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path


def module_of(mutant: str) -> str:
    """``toolkit.augment.xǁAdaptiveAugmentǁforward__mutmut_3`` -> ``toolkit/augment.py``."""
    dotted = re.split(r"\.x[_ǁ]", mutant, maxsplit=1)[0]
    path = dotted.replace(".", "/")
    # a package's own code (toolkit.families.x_discover_families -> toolkit/families/__init__.py)
    return f"{path}/__init__.py" if Path(path, "__init__.py").exists() else f"{path}.py"


def main() -> int:
    command = [sys.executable, "-m", "mutmut", "results", "--all", "true"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    status = defaultdict(Counter)
    survivors = []
    for name, state in re.findall(r"^\s*(\S+__mutmut_\d+): (.+)$", out, re.M):
        status[module_of(name)][state.strip()] += 1
        if state.strip() not in ("killed", "not checked"):
            survivors.append(f"{name}: {state.strip()}")
    print("| module | mutants tested | killed | survived | no tests | other | not tested yet | score |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for module, counts in sorted(status.items()):
        pending = counts["not checked"]
        tested = sum(counts.values()) - pending
        other = tested - counts["killed"] - counts["survived"] - counts["no tests"]
        score = f"{counts['killed'] / tested:.1%}" if tested else "-"
        print(
            f"| `{module}` | {tested} | {counts['killed']} | {counts['survived']} | {counts['no tests']} | "
            f"{other} | {pending} | {score} |"
        )
    print("\nNot killed (read each with `python -m mutmut show NAME`):")
    print("\n".join(survivors) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
