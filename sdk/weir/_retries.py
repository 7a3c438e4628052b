"""Step retries: a declared RetryPolicy, or RetryRequested raised by the step itself.

The delay before retry `n` (1 for the first retry) follows Dagster's arithmetic, so a
policy ported from Dagster waits as long: LINEAR ``n * delay``, EXPONENTIAL
``(2**n - 1) * delay``, then jitter FULL ``random() * d`` or PLUS_MINUS
``d + uniform(-delay, delay)``, never below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from weir._errors import DefinitionError


class Backoff(Enum):
    """How the delay grows with each retry: ``RetryPolicy(delay=1, backoff=Backoff.LINEAR)``."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(Enum):
    """Randomness added to the delay, so many failed steps do not retry at the same moment."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a failed step up to `max_retries` times, waiting `delay` seconds (grown by
    `backoff`, randomized by `jitter`) before each retry.

    >>> RetryPolicy(max_retries=3, delay=0.5, backoff=Backoff.EXPONENTIAL).delay_before(2)
    1.5
    """

    max_retries: int = 1
    delay: float | None = None
    backoff: Backoff | None = None
    jitter: Jitter | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise DefinitionError(
                f"RetryPolicy(max_retries={self.max_retries!r}): give a whole number >= 0"
            )
        if self.delay is not None and (not isinstance(self.delay, int | float) or self.delay < 0):
            raise DefinitionError(f"RetryPolicy(delay={self.delay!r}): give seconds >= 0")
        for name, value, kind in (
            ("backoff", self.backoff, Backoff),
            ("jitter", self.jitter, Jitter),
        ):
            if value is None:
                continue
            if not isinstance(value, kind):
                raise DefinitionError(
                    f"RetryPolicy({name}={value!r}): give one of "
                    f"{', '.join(f'{kind.__name__}.{m.name}' for m in kind)}"
                )
            if self.delay is None:
                raise DefinitionError(
                    f"RetryPolicy({name}=...) changes the delay between retries; set delay= too"
                )

    def delay_before(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first)."""
        base = float(self.delay or 0)
        if self.backoff is Backoff.EXPONENTIAL:
            wait = (2**retry - 1) * base
        elif self.backoff is Backoff.LINEAR:
            wait = retry * base
        else:
            wait = base
        if self.jitter is not None:
            import random  # only jittered policies need it, and only when a step fails

            if self.jitter is Jitter.FULL:
                wait = random.random() * wait
            else:
                wait += random.uniform(-base, base)
        return max(wait, 0.0)


class RetryRequested(Exception):
    """Raised by an asset or op to be run again, up to `max_retries` times in all, after
    `seconds_to_wait`; ``raise RetryRequested(max_retries=3) from error`` keeps the cause.

    >>> try:
    ...     raise RetryRequested(max_retries=2, seconds_to_wait=0.1)
    ... except RetryRequested as request:
    ...     request.max_retries
    2
    """

    def __init__(self, max_retries: int = 1, seconds_to_wait: float | None = None):
        if not isinstance(max_retries, int) or max_retries < 0:
            raise DefinitionError(
                f"RetryRequested(max_retries={max_retries!r}): give a whole number >= 0"
            )
        super().__init__(f"retry requested (max_retries={max_retries})")
        self.max_retries = max_retries
        self.seconds_to_wait = seconds_to_wait


def retry_delay(
    error: BaseException, policy: RetryPolicy | None, retries_done: int
) -> float | None:
    """Seconds to wait before retrying after `error`, or None when the step has no retry
    left. A RetryRequested carries its own limit and wait, ahead of the step's policy."""
    if isinstance(error, RetryRequested):
        if retries_done >= error.max_retries:
            return None
        return max(float(error.seconds_to_wait or 0), 0.0)
    if policy is None or retries_done >= policy.max_retries:
        return None
    return policy.delay_before(retries_done + 1)
