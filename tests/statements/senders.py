"""A sender for tests with real worker processes: appends every message to a file.

The worker runs in another process, so the in-memory outbox is out of reach; a line per send
in PORTAL_SENDER_LOG lets a test count how often each message really went out.
"""

from __future__ import annotations

import json
import os


class FileSender:
    def send(self, address: str, subject: str, body: str) -> None:
        line = json.dumps({"address": address, "subject": subject, "body": body}, ensure_ascii=False) + "\n"
        fd = os.open(os.environ["PORTAL_SENDER_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())  # one O_APPEND write per message: lines never interleave
            os.fsync(fd)
        finally:
            os.close(fd)


def read_log(path: str) -> list[tuple[str, str, str]]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [(d["address"], d["subject"], d["body"]) for d in map(json.loads, handle)]
