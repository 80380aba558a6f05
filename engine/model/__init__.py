"""The model layer: the two engines behind one interface (torch Functions, NumPy ops and
optimizers), initialisation, and the evaluation maths. Imports only config and errors."""
