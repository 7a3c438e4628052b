"""`AlertDeliveryWorker`: drains the alert delivery queue to the policies' webhooks.

One thread claims due deliveries (a row lease, so replicas on one database never send
one twice at once) and hands each to a bounded pool of sender threads, which POST the
body with a timeout and record the attempt. A failed attempt is retried after an
exponential backoff (`retry_base` * 2^(attempt-1), at most `retry_max`) until
`max_attempts`, then the delivery is FAILED. Nothing here holds a lock or a connection
while a request is in flight, so a receiver that hangs delays only its own delivery.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from weir_controlplane.alerts.bodies import render
from weir_controlplane.alerts.urls import masked
from weir_controlplane.errors import InvalidSettingError
from weir_controlplane.storage import DeploymentStorage
from weir_controlplane.storage.alerts import AlertStorage, ClaimedDelivery, DeliveryAttempt
from weir_controlplane.storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

_USER_AGENT = "weir-alerts/1"
_MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int = 6
    retry_base: float = 2.0  # seconds before the first retry; doubled for each next
    retry_max: float = 300.0
    timeout: float = 10.0  # seconds per POST
    concurrency: int = 4  # POSTs in flight at once
    # Seconds between looks at the queue when not woken (by a commit that queued alerts in
    # this process, or a finished delivery): retries fall due, other replicas queue.
    poll_interval: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_attempts", "concurrency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidSettingError(
                    f"alerts.{name}", "must be an integer of at least 1", value
                )
        for name in ("retry_base", "retry_max", "timeout", "poll_interval"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise InvalidSettingError(
                    f"alerts.{name}", "must be a positive number of seconds", value
                )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        return min(self.retry_max, self.retry_base * 2 ** (attempt - 1))


class AlertDeliveryWorker:
    """Example::

    worker = AlertDeliveryWorker(storage.alerts, storage.deployments)
    worker.start()   # claims and posts until stopped
    worker.wake()    # something was queued: look now rather than at the next poll
    worker.stop()
    """

    def __init__(
        self,
        alerts: AlertStorage,
        deployments: DeploymentStorage,
        settings: DeliverySettings | None = None,
    ) -> None:
        self._alerts = alerts
        self._deployments = deployments
        self.settings = settings or DeliverySettings()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        alerts.on_queued(self.wake)

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="alert-send")
        self._thread = threading.Thread(target=self._loop, name="alert-delivery", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._alerts.forget(self.wake)
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._pool is not None:
            # In-flight POSTs end within their timeout; their deliveries are recorded or,
            # if the process exits first, retried once their lease runs out.
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_pass()
            except DatabaseUnavailableError:
                log.warning("alert delivery pass: the database is unavailable; retrying")
            except Exception:
                log.exception("alert delivery pass failed; retrying")
            self._wake.wait(self.settings.poll_interval)
            self._wake.clear()

    def run_pass(self) -> int:
        """Claim what is due in every deployment, as far as free senders allow, and
        start sending it. Returns how many deliveries were started."""
        assert self._pool is not None, "start() the worker first"
        lease = timedelta(seconds=self.settings.timeout + 30)
        started = 0
        for scope in self._deployments.all_scopes():
            with self._lock:
                free = self.settings.concurrency - self._in_flight
            if free <= 0:
                break
            now = datetime.now(UTC)
            claimed = self._alerts.claim_due(scope, now=now, lease=lease, limit=free)
            with self._lock:
                self._in_flight += len(claimed)
            for delivery in claimed:
                self._pool.submit(self._send_and_release, delivery)
                started += 1
        return started

    def _send_and_release(self, delivery: ClaimedDelivery) -> None:
        try:
            self.send(delivery)
        except Exception:
            log.exception("alert delivery %s could not be recorded", delivery.delivery_id)
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wake.set()  # a slot is free: claim the next one now

    def send(self, delivery: ClaimedDelivery) -> DeliveryAttempt:
        """POST one delivery and record the outcome."""
        attempt_number = delivery.attempts + 1
        body = render(delivery.event, delivery.body_format, delivery.scope.name)
        started_at = datetime.now(UTC)
        began = time.monotonic()
        status_code, error = post(delivery.webhook_url, body, self.settings.timeout)
        attempt = DeliveryAttempt(
            attempt=attempt_number,
            started_at=started_at,
            duration_ms=int((time.monotonic() - began) * 1000),
            status_code=status_code,
            error=error,
        )
        retry_at = None
        if error is not None:
            where = masked(delivery.webhook_url)
            if attempt_number < self.settings.max_attempts:
                delay = self.settings.backoff(attempt_number)
                retry_at = datetime.now(UTC) + timedelta(seconds=delay)
                log.info(
                    "alert %s to %s: attempt %d failed (%s); retrying in %.1f s",
                    delivery.delivery_id, where, attempt_number, error, delay,
                )  # fmt: skip
            else:
                log.warning(
                    "alert %s to %s failed after %d attempts: %s",
                    delivery.delivery_id, where, attempt_number, error,
                )  # fmt: skip
        self._alerts.record_attempt(delivery, attempt, retry_at=retry_at)
        return attempt


def post(url: str, body: bytes, timeout: float) -> tuple[int | None, str | None]:
    """POST `body` as JSON: (HTTP status or None, an error or None when delivered).

    Any 2xx is delivered; anything else, including a redirect, is a failed attempt (a
    redirected POST would be resent somewhere the policy did not name). Errors never
    quote the URL: it may hold a secret.
    """
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": _USER_AGENT},
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code} {error.reason}"[:_MAX_ERROR_LENGTH]
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = error.reason if isinstance(error, urllib.error.URLError) else error
        return None, (str(reason) or type(reason).__name__)[:_MAX_ERROR_LENGTH]
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
