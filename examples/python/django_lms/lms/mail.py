"""An email backend writing each message as an .eml file into EMAIL_OUTBOX (the browser
tests read them); a real LMS keeps its SMTP backend."""

import os
import time
import uuid
from typing import Any, Sequence

from django.conf import settings  # type: ignore[import-untyped]
from django.core.mail.backends.base import BaseEmailBackend  # type: ignore[import-untyped]


class OutboxBackend(BaseEmailBackend):  # type: ignore[misc]
    def send_messages(self, messages: Sequence[Any]) -> int:
        os.makedirs(settings.EMAIL_OUTBOX, exist_ok=True)
        for message in messages:
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.eml"
            path = os.path.join(settings.EMAIL_OUTBOX, name)
            with open(path + ".tmp", "wb") as f:
                f.write(message.message().as_bytes())
            os.replace(path + ".tmp", path)
        return len(messages)
