"""Powertools Logger, Metrics and Tracer, configured once per function from the environment."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(utc=True)
metrics = Metrics()
tracer = Tracer()
