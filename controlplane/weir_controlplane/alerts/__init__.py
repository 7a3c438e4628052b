"""Alerts: webhook bodies, webhook URLs, and the worker that delivers queued alerts.

What to alert on is decided where the event is stored (storage/alerts.py `publish`, in
the same transaction); this package only sends. `AlertDeliveryWorker` runs beside the
daemons on threads of its own, so a slow or dead receiver delays nothing else.
"""

from weir_controlplane.alerts.worker import AlertDeliveryWorker, DeliverySettings

__all__ = ["AlertDeliveryWorker", "DeliverySettings"]
