"""The card station protocol (制卡工作站协议, ``hardware/PROTOCOL.md``): the names both sides use —
the platform (``app.api.station``, ``app.cards.jobs``) and the station at the desk
(``hardware.station``). Imports nothing."""

from __future__ import annotations

import re

API = "/api/v1/station"  # the platform's prefix for the station's calls
TOKEN_ENV = "SSCARD_STATION_TOKEN"  # the station's bearer token
PLATFORM_ENV = "SSCARD_PLATFORM_URL"
STATION_ID_ENV = "SSCARD_STATION_ID"
KINDS = ("issue", "read", "verify", "block", "reset_pin", "change_pin", "rewrite_region")  # card job kinds (CardJob.kind)
JOB_FINISHED_MESSAGE = "card_job_finished"  # the BPMN message a finished job sends its case
JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # safe as a file name and URL segment
