"""Peak resident memory of the current process, for benchmarks and timing reports."""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_rss_mib() -> float:
    """Peak resident memory of this process's own address space, MiB.

    On Linux this is ``VmHWM``: ``ru_maxrss`` survives fork and exec, so a child started by
    a large parent (a test runner with torch loaded) would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024
