"""The backend store: tables, queries, migrations. Knows nothing of HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from service.store.assessments import AssessmentStore
from service.store.db import Database
from service.store.experiments import ExperimentStore
from service.store.logged_models import LoggedModelStore
from service.store.metrics import MetricStore
from service.store.model_versions import ModelVersionStore
from service.store.registered_models import RegisteredModelStore
from service.store.runs import RunStore
from service.store.traces import TraceStore


@dataclass(frozen=True)
class Store:
    """Every store over one database, as the HTTP layer sees them."""

    db: Database
    experiments: ExperimentStore
    runs: RunStore
    metrics: MetricStore
    logged_models: LoggedModelStore
    registered_models: RegisteredModelStore
    model_versions: ModelVersionStore
    traces: TraceStore
    assessments: AssessmentStore

    @classmethod
    def over(cls, db: Database) -> Store:
        experiments = ExperimentStore(db)
        logged_models = LoggedModelStore(db, experiments)
        return cls(
            db=db,
            experiments=experiments,
            runs=RunStore(db, experiments),
            metrics=MetricStore(db),
            logged_models=logged_models,
            registered_models=RegisteredModelStore(db),
            model_versions=ModelVersionStore(db, logged_models),
            traces=TraceStore(db, experiments),
            assessments=AssessmentStore(db),
        )
