"""The training layer: ``history`` (curves and the exact position of a model's training) and ``run``
(:class:`~engine.training.run.TrainingRun`, the event stream every front end consumes)."""
