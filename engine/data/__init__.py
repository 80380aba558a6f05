"""Datasets: ``dataset`` (Dataset, Split, the split rule), ``cache``, ``files`` (what may be read),
``images`` (decoding), one module per layout (``course``, ``idx``, ``folders``, ``letters``),
and ``layouts`` (detection and :func:`~engine.data.layouts.open_dataset`)."""
