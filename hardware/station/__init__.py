"""Card station 制卡工作站: the process at the clerk's desk with the reader and the card printer.

It takes card jobs 制卡任务 from the platform over HTTP (``PROTOCOL.md``), runs them on the
card in the reader, and reports results. Nothing is lost when the station, the card or the
network fails half-way:

- every claimed job is written to the spool folder 本地任务目录 before any work, with the
  personalisation journal beside it;
- every result is written to the spool before it is sent, and removed only after the platform
  acknowledged it (results carry a ``result_id``, so a resend is harmless);
- on start the station re-sends unacknowledged results, then resumes unfinished jobs (a
  personalisation resumes from its journal), and only then claims new jobs.

Spool layout: ``<spool>/jobs/<job id>/{job.json, journal.json, printed.json, result.json}``,
``<spool>/done/<job id>.json`` (acknowledged, no personal data), ``<spool>/rejected/`` (results
the platform refused, kept for a person to look at).
"""

from __future__ import annotations

from ..protocol import API, JOB_ID, KINDS, PLATFORM_ENV, STATION_ID_ENV, TOKEN_ENV  # noqa: F401
from .cli import add_arguments, main  # noqa: F401
from .errors import EXIT_CONFIG, EXIT_OK, EXIT_PLATFORM_GONE, EXIT_UNAUTHORIZED  # noqa: F401
from .client import PlatformClient  # noqa: F401
from .errors import *  # noqa: F401,F403
from .job import Outcome  # noqa: F401
from .runner import Station  # noqa: F401
from .spool import Spool, write_json_atomic  # noqa: F401
