"""EventBridge schedule expressions (the layer's parser, shared with the workflows scheduler)."""

from common.schedules import Schedule

__all__ = ["Schedule"]
