"""The Qt application around the engine: windows, panels and the training worker."""
