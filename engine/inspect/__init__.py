"""Inspection: the gradient check (and, later, user functions, internals, step-through, embeddings)."""
