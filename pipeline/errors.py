"""The error types every stage and adapter speaks (pure).

Tasks decide on retries by type alone: TransientError is retried with backoff,
BadInput is recorded as failed at once, SkipDocument is an expected outcome.
"""


class PipelineError(Exception):
    """Base of our own errors."""


class SkipDocument(PipelineError):
    """Nothing to do for this document (empty after cleaning, a duplicate, not text)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadInput(PipelineError):
    """A permanent problem with the input: retrying cannot help."""


class TransientError(PipelineError):
    """A fault that may pass: network, timeout, 429/5xx, a service unavailable."""
