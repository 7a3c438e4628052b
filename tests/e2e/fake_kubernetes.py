"""A small real Kubernetes API server for the Kubernetes run launcher's tests.

It speaks, over HTTP with Kubernetes' JSON and Status objects, the few endpoints the
launcher uses (create/read/delete a Job, create a Secret), and plays the kubelet: once a
Job and the Secret its pod mounts both exist, it runs the Job's container command as a
local process (the image is recorded, not pulled), with the Secret's keys written where
the volume is mounted. A deleted Job's process gets SIGTERM, as a pod does; an owned
Secret goes with its Job, as the garbage collector does.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

_JOBS = re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?$")
_SECRETS = re.compile(r"^/api/v1/namespaces/([^/]+)/secrets(?:/([^/]+))?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class FakeKubernetes:
    def __init__(self, root: Path, env: dict[str, str], *, run_pods: bool = True) -> None:
        self.root = root
        self.env = env
        self.run_pods = run_pods
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        self._finished: dict[tuple[str, str], threading.Event] = {}
        self.calls: list[tuple[str, str]] = []  # (method, path?query)
        self.refuse: tuple[int, str] | None = None  # answer every call with this status
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.calls.append((method, self.path))
                status, answer = fake.handle(method, self.path, body)
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for pod in self.pods.values():
            if pod.poll() is None:
                pod.kill()
                pod.wait(10)

    # --- the API ------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.refuse is not None:
            return _status(*self.refuse)
        url = urlparse(path)
        with self.lock:
            if match := _JOBS.match(url.path):
                return self._jobs(method, match[1], match[2], body, parse_qs(url.query))
            if (match := _SECRETS.match(url.path)) and method == "POST" and not match[2]:
                return self._create_secret(match[1], body)
        return _status(404, f"the server could not find the requested resource ({path})")

    def _jobs(
        self, method: str, ns: str, name: str | None, body: dict[str, Any], query: dict
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and name is None:
            problem = _invalid_job(body)
            if problem:
                return _status(422, f"Job is invalid: {problem}")
            key = (ns, body["metadata"]["name"])
            if key in self.jobs:
                return _status(409, f'jobs.batch "{key[1]}" already exists')
            job = json.loads(json.dumps(body))
            job["metadata"].update(namespace=ns, uid=str(uuid.uuid4()))
            job["status"] = {}
            self.jobs[key] = job
            self._maybe_start(key)
            return 201, job
        job = self.jobs.get((ns, name or ""))
        if job is None:
            return _status(404, f'jobs.batch "{name}" not found')
        if method == "GET":
            return 200, job
        if method == "DELETE":
            job["deletedWith"] = query.get("propagationPolicy", [""])[0]
            del self.jobs[(ns, name or "")]
            self.secrets = {
                k: s
                for k, s in self.secrets.items()
                if not any(o["uid"] == job["metadata"]["uid"] for o in _owners(s))
            }
            pod = self.pods.get((ns, name or ""))
            if pod is not None and pod.poll() is None:
                pod.send_signal(signal.SIGTERM)
            return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success"}
        return _status(405, f"{method} is not allowed here")

    def _create_secret(self, ns: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = body.get("metadata", {}).get("name", "")
        if not _DNS_LABEL.match(name):
            return _status(422, f"Secret name {name!r} is invalid")
        if (ns, name) in self.secrets:
            return _status(409, f'secrets "{name}" already exists')
        self.secrets[(ns, name)] = body
        for owner in _owners(body):
            self._maybe_start((ns, owner["name"]))
        return 201, body

    # --- the kubelet --------------------------------------------------------------------

    def _maybe_start(self, key: tuple[str, str]) -> None:
        """Start the Job's pod once every Secret it mounts exists (a kubelet waits too)."""
        job = self.jobs.get(key)
        if not self.run_pods or job is None or key in self.pods:
            return
        ns = key[0]
        pod = job["spec"]["template"]["spec"]
        mounts: dict[str, Path] = {}
        for volume in pod.get("volumes", []):
            secret = self.secrets.get((ns, volume["secret"]["secretName"]))
            if secret is None:
                return
            folder = self.root / key[1] / volume["name"]
            folder.mkdir(parents=True, exist_ok=True)
            for item, value in secret.get("data", {}).items():
                (folder / item).write_bytes(base64.b64decode(value))
            mounts[volume["name"]] = folder
        container = pod["containers"][0]
        paths = {m["mountPath"]: mounts[m["name"]] for m in container.get("volumeMounts", [])}
        command = [_mounted(word, paths) for word in container["command"]]
        env = {**self.env, **{e["name"]: e["value"] for e in container.get("env", [])}}
        process = subprocess.Popen(command, env=env)
        self.pods[key] = process
        self._finished[key] = threading.Event()
        threading.Thread(target=self._watch, args=(key, job, process), daemon=True).start()

    def _watch(self, key: tuple[str, str], job: dict[str, Any], process: subprocess.Popen) -> None:
        code = process.wait()
        with self.lock:
            if code == 0:
                job["status"] = {"succeeded": 1, "conditions": [_condition("Complete")]}
            else:
                reason = _condition("Failed", "BackoffLimitExceeded", f"exit code {code}")
                job["status"] = {"failed": 1, "conditions": [reason]}
        self._finished[key].set()

    def pod_exit_code(self, namespace: str, name: str, timeout: float = 20) -> int:
        """The exit code of the Job's pod, once it has ended and the Job's status says so."""
        assert self._finished[(namespace, name)].wait(timeout), f"pod {name} still runs"
        code = self.pods[(namespace, name)].returncode
        assert code is not None
        return code


def _mounted(word: str, paths: dict[str, Path]) -> str:
    for mount, folder in paths.items():
        if word.startswith(mount + "/"):
            return str(folder / word.removeprefix(mount + "/"))
    return word


def _owners(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return list(resource.get("metadata", {}).get("ownerReferences", []))


def _condition(kind: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": "True", "reason": reason, "message": message}


def _invalid_job(body: dict[str, Any]) -> str:
    """What Kubernetes would reject in a Job the launcher sends (the parts it relies on)."""
    if body.get("apiVersion") != "batch/v1" or body.get("kind") != "Job":
        return "apiVersion/kind must be batch/v1 Job"
    name = body.get("metadata", {}).get("name", "")
    if not _DNS_LABEL.match(name):
        return f"metadata.name {name!r} is not a DNS-1123 label"
    pod = body.get("spec", {}).get("template", {}).get("spec", {})
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        return "spec.template.spec.restartPolicy must be Never or OnFailure"
    if not pod.get("containers"):
        return "spec.template.spec.containers is required"
    return ""


def _status(code: int, message: str) -> tuple[int, dict[str, Any]]:
    reasons = {403: "Forbidden", 404: "NotFound", 409: "AlreadyExists", 422: "Invalid"}
    return code, {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reasons.get(code, "InternalError"),
        "code": code,
    }
