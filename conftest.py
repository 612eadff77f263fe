"""pytest hooks for the whole repository: after `make test`, print how long each lesson took in quick mode.

The budget is 150 s a lesson on a 2-core machine with nothing else running; `make test` runs two test workers
at once, so the times printed here are an upper bound on that.
"""

from collections import defaultdict

_lesson_seconds: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _lesson_seconds[path] += report.duration  # setup, call and teardown of each cell


def pytest_terminal_summary(terminalreporter):
    if _lesson_seconds:
        terminalreporter.section("seconds per lesson (quick mode; 2 test workers share the machine)")
        for path, seconds in sorted(_lesson_seconds.items()):
            terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
