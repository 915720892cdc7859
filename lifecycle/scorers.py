"""Adapters from the ring (issue 3) and GNN (issue 4) packages to the ``Scorer`` protocol.

They import their package lazily, on first call, and never raise: when the package, the
model or the call is not there or fails, they return an unavailable ``ScoreSignal`` with
a reason code, and the policy decides what that means (``unavailable_scorer``).

What they expect:

* ring: ``rings.incremental.score_application(runner, application_id, config)`` returning
  an object with ``ring_score`` (float in [0, 1]), ``action`` (join/bridge/new/none),
  ``reasons`` (list of str) and ``ring_ids`` (list of str) or ``ring_id`` (str | None).
  ``config`` is what :func:`ring_scorer` was given; with none, the adapter builds it with
  ``rings.config.load_config(settings.ring_config_file)`` (defaults when no file).
* gnn: ``gnn.registry.load_champion(settings)`` returning a model (or ``None`` when no
  champion is promoted) and ``gnn.score.score_application(runner, application_id, model)``
  returning an object with ``score`` (float in [0, 1]), ``model_version`` (str) and
  ``reasons`` (list of str); for a batch of submissions (``score_many``, which the
  decision calls once per batch) ``gnn.score.score_applications(runner, ids, model)``
  returning those objects by id. The champion is loaded once per scorer (``warm_up``), with
  the challenger (``gnn.registry.load_challenger``) when one is registered: it scores in
  shadow (``shadow=``), its score is stored on the application
  (``gnn.score.write_shadow_scores``) and kept in the signal's detail, never decided on.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from fraudgraph.logs import get_logger
from fraudgraph.settings import Settings
from graph.runner import QueryRunner
from lifecycle.signals import Scorer, ScoreSignal

log = get_logger("lifecycle.scorers")


def _module(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _clamp(value: Any) -> float:
    return min(1.0, max(0.0, float(value)))


def _ring_config(settings: Settings | None) -> Any:
    module = _module("rings.config")
    if module is None or not hasattr(module, "load_config"):
        return None
    return module.load_config(getattr(settings, "ring_config_file", None))


class RingScorer:
    """A scorer over issue 3's incremental ring matching. ``ring_cap`` tells the decision's
    one read (``lifecycle.snapshot``) how far to expand, so the three ring reads are
    answered from it."""

    def __init__(self, config: Any = None, settings: Settings | None = None) -> None:
        self._config = config
        self._settings = settings

    def config(self) -> Any:
        if self._config is None:
            self._config = _ring_config(self._settings)
        return self._config

    @property
    def ring_cap(self) -> int | None:
        try:
            cap = getattr(self.config(), "hub_cap", None)
        except Exception:  # the scorer itself reports a bad config, as unavailable
            return None
        return int(cap) if isinstance(cap, int) else None

    def __call__(self, runner: QueryRunner, application_id: str) -> ScoreSignal:
        module = _module("rings.incremental")
        fn = getattr(module, "score_application", None) if module else None
        if fn is None:
            return ScoreSignal.unavailable("ring", "U_RING_MISSING",
                                           "rings.incremental.score_application not installed")
        try:
            match = fn(runner, application_id, self.config())
        except Exception as exc:  # a failing scorer must not stop origination
            log.warning("ring scorer failed", application_id=application_id,
                        error=type(exc).__name__)
            return ScoreSignal.unavailable("ring", "U_RING_FAILED", type(exc).__name__)
        ring_ids = list(getattr(match, "ring_ids", None) or (
            [match.ring_id] if getattr(match, "ring_id", None) else []))
        return ScoreSignal(source="ring", available=True, score=_clamp(match.ring_score),
                           reasons=[str(r) for r in (match.reasons or [])][:4],
                           detail={"ring_ids": [str(r) for r in ring_ids],
                                   "action": str(getattr(match, "action", ""))})


def ring_scorer(config: Any = None, settings: Settings | None = None) -> Scorer:
    """A scorer over issue 3's incremental ring matching."""
    return RingScorer(config, settings)


class GnnScorer:
    """A scorer over issue 4's champion GNN; the champion is loaded once, by ``warm_up``
    (the API calls it at startup, off the request path: importing torch takes seconds)
    or else by the first call."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._loaded = False
        self._model: Any = None
        self._challenger: Any = None

    @property
    def ready(self) -> bool:
        """Whether the packages are imported and the champion looked up."""
        return self._loaded

    def warm_up(self) -> None:
        """Import the GNN packages and load the champion, once."""
        with self._lock:
            if self._loaded:
                return
            registry = _module("gnn.registry")
            _module("gnn.score")
            if registry is not None:
                try:
                    self._model = registry.load_champion(self._settings)
                except Exception as exc:
                    log.warning("gnn champion failed to load", error=type(exc).__name__)
                self._challenger = self._load_challenger(registry)
            self._loaded = True

    def _limit_threads(self) -> None:
        # With torch's default of one thread per core, a decision scored on the main
        # thread (replay, the lifecycle CLI) split each of its small operators across the
        # cores and spent 18.9 ms of CPU where one thread spends 8.8 (two cores,
        # 2026-12-05; the API's worker threads showed no difference). The setting holds
        # for the calling thread, so every call sets it (a fraction of a microsecond).
        torch = _module("torch")
        if torch is not None:
            torch.set_num_threads(self._settings.gnn_score_threads)

    def _load_challenger(self, registry: Any) -> Any:
        # A challenger that fails to load only loses its shadow scores, never a decision.
        try:
            return registry.load_challenger(self._settings)
        except Exception as exc:
            log.warning("gnn challenger failed to load", error=type(exc).__name__)
            return None

    def _ready(self) -> tuple[Any, ScoreSignal | None]:
        """``gnn.score``, or why the GNN cannot score."""
        registry, scoring = _module("gnn.registry"), _module("gnn.score")
        if registry is None or scoring is None or not hasattr(scoring, "score_applications"):
            return None, ScoreSignal.unavailable("gnn", "U_GNN_MISSING",
                                                 "gnn.score / gnn.registry not installed")
        self.warm_up()
        self._limit_threads()
        if self._model is None:
            return None, ScoreSignal.unavailable("gnn", "U_GNN_NO_CHAMPION",
                                                 "no champion model is promoted")
        return scoring, None

    def __call__(self, runner: QueryRunner, application_id: str) -> ScoreSignal:
        scoring, missing = self._ready()
        if missing is not None:
            return missing
        try:
            result = scoring.score_application(
                runner, application_id, self._model, self._settings.gnn_score_fanout,
                shadow=self._challenger, hub_cap=self._settings.gnn_hub_cap)
        except Exception as exc:  # a failing scorer must not stop origination
            log.warning("gnn scorer failed", application_id=application_id,
                        error=type(exc).__name__)
            return ScoreSignal.unavailable("gnn", "U_GNN_FAILED", type(exc).__name__)
        self._store_shadows(runner, scoring, [result])
        return self._signal(result)

    def score_many(self, runner: QueryRunner, application_ids: list[str]
                   ) -> dict[str, ScoreSignal]:
        """Signals for a batch of submissions: their neighbourhoods in one read and, for
        an R-GCN champion, one forward and backward pass (``gnn.score.score_applications``),
        each the signal the application gets alone. A failure is every application's."""
        scoring, missing = self._ready()
        if missing is not None:
            return dict.fromkeys(application_ids, missing)
        try:
            results = scoring.score_applications(
                runner, application_ids, self._model, self._settings.gnn_score_fanout,
                shadow=self._challenger, hub_cap=self._settings.gnn_hub_cap)
        except Exception as exc:  # a failing scorer must not stop origination
            log.warning("gnn scorer failed", applications=len(application_ids),
                        error=type(exc).__name__)
            return dict.fromkeys(application_ids, ScoreSignal.unavailable(
                "gnn", "U_GNN_FAILED", type(exc).__name__))
        self._store_shadows(runner, scoring, list(results.values()))
        return {i: self._signal(result) for i, result in results.items()}

    @staticmethod
    def _signal(result: Any) -> ScoreSignal:
        """The champion's score decides; the challenger's is kept in the detail."""
        shadow = getattr(result, "shadow", None)
        detail = {} if shadow is None else {"shadow_score": float(shadow.score),
                                            "shadow_version": str(shadow.model_version)}
        return ScoreSignal(source="gnn", available=True, score=_clamp(result.score),
                           version=str(result.model_version),
                           reasons=[str(r) for r in (result.reasons or [])][:4],
                           detail=detail)

    @staticmethod
    def _store_shadows(runner: QueryRunner, scoring: Any, results: list[Any]) -> None:
        """The challenger's scores, stored on their applications in one statement."""
        if all(getattr(r, "shadow", None) is None for r in results):
            return
        try:
            scoring.write_shadow_scores(runner, results)
        except Exception as exc:  # losing a shadow score must not stop origination
            log.warning("gnn shadow scores not stored", applications=len(results),
                        error=type(exc).__name__)


def gnn_scorer(settings: Settings) -> Scorer:
    """A scorer over issue 4's champion GNN."""
    return GnnScorer(settings)


def default_scorers(settings: Settings) -> list[Scorer]:
    return [ring_scorer(settings=settings), gnn_scorer(settings)]


def ring_detector(settings: Settings | None = None) -> Any | None:
    """``detect(runner, now)`` running issue 3's full ring detection with write-back (for
    the replay's periodic batch), or ``None`` when the rings package is not there."""
    module = _module("rings.detect")
    if module is None or not hasattr(module, "run_detection"):
        return None
    config = _ring_config(settings)

    def detect(runner: QueryRunner, now: Any) -> None:
        module.run_detection(runner, config, now=now)

    return detect
