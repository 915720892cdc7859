"""How long a generation takes and how much memory it needs.

The generation runs in a fresh process, so the peak resident memory reported is that
run's alone (a process's peak never goes down, so measuring in the caller's process
would report the largest thing it ever did).
"""

from __future__ import annotations

import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from fraudgraph.memory import peak_rss_mib
from synthetic.portfolio import GenerationSummary, default_workers, generate_portfolio


@dataclass(frozen=True)
class GenerationTiming:
    """Cost of one generation run."""

    summary: GenerationSummary
    workers: int
    #: Wall-clock seconds of :func:`~synthetic.portfolio.generate_portfolio`.
    seconds: float
    #: User plus system CPU seconds of the generating process and its workers.
    cpu_seconds: float
    #: Peak resident memory of the generating (writing) process, MiB.
    peak_rss_mib: float
    #: Peak resident memory of the largest worker process, MiB (0 without workers).
    worker_peak_rss_mib: float

    @property
    def applications_per_second(self) -> float:
        return self.summary.applications / self.seconds if self.seconds else 0.0


def _mib(maxrss: int) -> float:
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def _run(out_dir: Path, applications: int, seed: int, fmt: str, workers: int) -> GenerationTiming:
    start = time.perf_counter()
    summary = generate_portfolio(out_dir, applications, seed, fmt, workers=workers)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, all joined
    return GenerationTiming(
        summary=summary,
        workers=workers,
        seconds=seconds,
        cpu_seconds=own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        peak_rss_mib=peak_rss_mib(),
        worker_peak_rss_mib=_mib(children.ru_maxrss) if workers > 1 else 0.0,
    )


def measure_generation(
    out_dir: Path,
    applications: int,
    seed: int = 0,
    fmt: str = "csv",
    workers: int | None = None,
) -> GenerationTiming:
    """Generate a portfolio in a fresh process and report its time and peak memory.

    Arguments are those of :func:`~synthetic.portfolio.generate_portfolio`; ``workers``
    defaults to :func:`~synthetic.portfolio.default_workers`.
    """
    workers = default_workers(applications) if workers is None else workers
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_run, Path(out_dir), applications, seed, fmt, workers).result()
