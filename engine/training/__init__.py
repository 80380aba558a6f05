"""The training layer, from what a run is to where it trains.

- ``events``: what a run says (step, epoch, validation, health, finished/failed) and what a
  worker process sends home besides (typed messages).
- ``history``: the curves and the exact position of a model's training (resume is exact).
- ``run``: :class:`~engine.training.run.TrainingRun`, training in the calling thread.
- ``host``: :class:`~engine.training.host.RunHost`, the same run in warm worker processes.
- ``launch``: :class:`~engine.training.launch.RunPlan` and :func:`~engine.training.launch.start_run`,
  the one place that decides where a run trains.
- ``processes``: what differs by operating system (process trees, limits, BLAS threads).
- ``health``: layer health collected while training.
"""
