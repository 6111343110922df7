"""The engine's mailer on ``django.core.mail``: each message as a multipart email."""

from __future__ import annotations

from django.conf import settings  # type: ignore[import-untyped]
from django.core.mail import EmailMultiAlternatives  # type: ignore[import-untyped]

from ... import Message


class DjangoMailer:
    """Sends through the host's email backend (``EMAIL_BACKEND``), from
    ``DEFAULT_FROM_EMAIL``."""

    def send(self, message: Message) -> None:
        email = EmailMultiAlternatives(
            subject=message["subject"],
            body=message["text"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message["to"]],
        )
        email.attach_alternative(message["html"], "text/html")
        email.send(fail_silently=False)
