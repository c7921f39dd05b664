"""EventBridge schedule expressions (the layer's parser, shared with the workflows scheduler)."""

from common.workflows.schedules import Schedule

__all__ = ["Schedule"]
