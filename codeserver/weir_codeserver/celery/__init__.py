"""Steps on Celery workers: the run's worker launches each step as a Celery task
(`launcher.py`); `weir celery worker` loads the code location and runs them
(`step_worker.py`), claiming each attempt and reporting its events to the control plane
with the attempt's own token (`attempts_client.py`). Celery is imported only here.
"""
