"""Peak memory of a measured piece of code, for the benchmarks."""

from __future__ import annotations

import os
import threading


class PeakMemory:
    """The highest PSS of this process plus its children, sampled every 20 ms while active."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))
        except (OSError, StopIteration):
            return 0  # the process has just ended

    def _sample(self) -> None:
        me = os.getpid()
        while True:
            with open(f"/proc/{me}/task/{me}/children") as children:
                pids = [me, *map(int, children.read().split())]
            self.peak_kb = max(self.peak_kb, sum(map(self._pss_kb, pids)))
            if self._stop.wait(0.02):
                return
