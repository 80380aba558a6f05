"""Experiments: the run store (every run recorded) and sweeps (Optuna) on the run host."""
