"""A task that kills its worker process on one illustration, as an out-of-memory kill would."""

import os
from typing import Any

from animestyle.data.prepare.worker import Job, process


def crash_on_second(job: Job) -> dict[str, Any]:
    if job[0].key == "2":
        os._exit(1)
    return process(job)
