"""Inspection of models and of the user's own code: the gradient check of the built-in
Functions (``gradcheck``), the check of a student's Functions against the reference
(``functions``, run in the ``sandbox``) and of a class of them (``gradebook``), a prediction
explained step by step (``explain``) and embeddings of a layer (``embed``)."""
