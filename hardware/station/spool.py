"""The station's spool: jobs and results on disk, so a killed station resumes and re-sends."""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import logging
import os
import shutil
import tempfile
import uuid


log = logging.getLogger(__name__)

from .errors import SpoolLockedError


def write_json_atomic(path: str, data) -> None:
    """Temp file + fsync + os.replace: a crash leaves the old file or the new one, never half."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_json(path: str):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class Spool:
    """The station's local job folder; one station process per folder (file lock)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        for sub in ("jobs", "done", "rejected"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        self._lock = open(os.path.join(self.root, ".lock"), "a+")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            raise SpoolLockedError(
                f"本地任务目录 {self.root} 正被另一个工作站进程使用",
                f"The spool {self.root} is in use by another station process",
            ) from None

    def close(self) -> None:
        self._lock.close()  # releases the flock

    def dir(self, job_id: str) -> str:
        return os.path.join(self.root, "jobs", job_id)

    def path(self, job_id: str, name: str) -> str:
        return os.path.join(self.dir(job_id), name)

    def save_job(self, job: dict) -> None:
        os.makedirs(self.dir(job["id"]), exist_ok=True)
        write_json_atomic(self.path(job["id"], "job.json"), job)

    def load_job(self, job_id: str) -> dict:
        return _read_json(self.path(job_id, "job.json"))

    def has(self, job_id: str, name: str) -> bool:
        return os.path.exists(self.path(job_id, name))

    def _ids(self, want_result: bool) -> list[str]:
        found = []
        for job_id in os.listdir(os.path.join(self.root, "jobs")):
            if not self.has(job_id, "job.json"):
                continue  # killed before the job was spooled: the platform hands it out again
            if self.has(job_id, "result.json") == want_result:
                found.append((os.path.getmtime(self.path(job_id, "job.json")), job_id))
        return [job_id for _, job_id in sorted(found)]

    def unfinished(self) -> list[str]:
        """Spooled jobs without a result, in the order they were claimed."""
        return self._ids(want_result=False)

    def pending_results(self) -> list[str]:
        return self._ids(want_result=True)

    def save_result(self, job_id: str, result: dict) -> None:
        write_json_atomic(self.path(job_id, "result.json"), result)

    def load_result(self, job_id: str) -> dict:
        return _read_json(self.path(job_id, "result.json"))

    def acknowledged(self, job_id: str) -> None:
        """The platform has the result: keep a receipt without personal data, drop the rest."""
        result = self.load_result(job_id)
        receipt = {
            k: result.get(k)
            for k in ("job_id", "attempt", "kind", "result_id", "ok", "finished_at")
        }
        receipt["error_code"] = (result.get("error") or {}).get("code")
        receipt["acknowledged_at"] = _now()
        write_json_atomic(os.path.join(self.root, "done", f"{job_id}.json"), receipt)
        shutil.rmtree(self.dir(job_id), ignore_errors=True)

    def reject(self, job_id: str, reason: str) -> str:
        """The platform refused the result (job cancelled, unknown): keep it for a person."""
        target = os.path.join(
            self.root,
            "rejected",
            f"{job_id}-{_dt.datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}",
        )
        write_json_atomic(
            os.path.join(self.dir(job_id), "rejected.json"), {"reason": reason, "at": _now()}
        )
        os.replace(self.dir(job_id), target)
        return target


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --- virtual blank cards (single-machine demo) --------------------------------------------------
