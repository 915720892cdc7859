"""The scorer adapters' own behaviour, apart from what they score."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from fraudgraph.settings import Settings
from graph.runner import QueryRunner
from lifecycle.scorers import GnnScorer


@pytest.mark.parametrize("threads", [1, 3])
def test_the_gnn_scorer_sets_torch_threads_on_the_thread_that_scores(
        runner: QueryRunner, tmp_path: Path, threads: int) -> None:
    scorer = GnnScorer(Settings(var_dir=tmp_path, gnn_score_threads=threads))
    scorer.warm_up()  # on this thread, as the API warms up off its request threads
    seen: dict[str, object] = {}

    def score_elsewhere() -> None:
        # A thread's setting also becomes what later new threads start with: put it
        # back, so that no other test inherits this one's.
        before = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            seen["signal"] = scorer(runner, "APP-NONE")
            seen["threads"] = torch.get_num_threads()
        finally:
            torch.set_num_threads(before)

    worker = threading.Thread(target=score_elsewhere)
    worker.start()
    worker.join()
    assert seen["threads"] == threads
    assert seen["signal"].unavailable_code == "U_GNN_NO_CHAMPION"  # type: ignore[attr-defined]
