"""The training engine: trainer, objectives, events, controls and checkpoints (no Qt)."""
