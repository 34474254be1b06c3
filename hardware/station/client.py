"""The station's HTTP client of the platform (claim, progress, result), with retries."""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request


log = logging.getLogger(__name__)

from ..protocol import API, KINDS
from .errors import (
    JobCancelledError,
    PlatformProtocolError,
    PlatformUnavailableError,
    UnauthorizedError,
)


class PlatformClient:
    """The three station calls of PROTOCOL.md, JSON over HTTP with a bearer token."""

    def __init__(self, base_url: str, token: str, station_id: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.station_id = station_id
        self.timeout = timeout

    def claim(self) -> dict | None:
        """The next job for this station, or None (204)."""
        status, body = self._post(
            f"{API}/jobs/claim", {"station": self.station_id, "kinds": list(KINDS)}
        )
        if status == 204 or not body or body.get("job") is None:
            return None
        if not isinstance(body.get("job"), dict):
            raise PlatformProtocolError(
                "平台应答缺少 job 对象", "the claim answer has no job object"
            )
        return body["job"]

    def progress(self, job_id: str, state: str, detail: str) -> None:
        self._post(
            f"{API}/jobs/{_q(job_id)}/progress",
            {"station": self.station_id, "state": state, "detail": detail},
            timeout=min(self.timeout, 3.0),
        )  # the clerk's screen must not slow the card down

    def result(self, job_id: str, result: dict) -> None:
        self._post(f"{API}/jobs/{_q(job_id)}/result", result)

    def _post(self, path: str, body: dict, timeout: float | None = None) -> tuple[int, dict | None]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "User-Agent": "sscard-station/1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, _read_quietly(e)
            if status in (401, 403):
                raise UnauthorizedError() from None
            if status == 409:
                raise JobCancelledError() from None
            if status >= 500 or status in (408, 429):
                raise PlatformUnavailableError(
                    f"制卡平台暂时不可用（HTTP {status}），稍后自动重试",
                    f"The card platform is unavailable (HTTP {status}); retrying",
                ) from None
            raise PlatformProtocolError(
                f"平台拒绝了请求（HTTP {status}）：{text}",
                f"The platform refused the request (HTTP {status}): {text}",
            ) from None
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            OSError,
        ) as e:  # refused, timeout, reset
            reason = getattr(e, "reason", e)
            raise PlatformUnavailableError(
                f"无法连接制卡平台（{reason}），稍后自动重试",
                f"Cannot reach the card platform ({reason}); retrying",
            ) from None
        if not raw:
            return status, None
        try:
            return status, json.loads(raw)
        except ValueError:
            raise PlatformProtocolError(
                "平台应答不是 JSON", "the platform's answer is not JSON"
            ) from None


def _q(job_id: str) -> str:
    return urllib.parse.quote(job_id, safe="")


def _read_quietly(e: urllib.error.HTTPError) -> str:
    try:
        return e.read(200).decode("utf-8", "replace")
    except Exception:
        return ""
    finally:
        e.close()


# --- spool ------------------------------------------------------------------------------------
