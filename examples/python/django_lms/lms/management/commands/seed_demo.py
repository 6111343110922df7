"""`python manage.py seed_demo`: the demo LMS's groups and content, and its administrator
(a superuser) with a new password printed once, as `bulk-upload init --demo` prints it."""

import secrets
from typing import Any

from django.contrib.auth import get_user_model  # type: ignore[import-untyped]
from django.core.management.base import BaseCommand  # type: ignore[import-untyped]

from lms.models import Cohort, Content, Learner

GROUPS = ["Sales", "Marketing", "Engineering", "Support", "Finance", "Human Resources", "Auckland Office",
          "Wellington Office", "London Office", "Managers", "New Starters"]
CONTENT = [
    ("course", "induction-101", "Company induction"),
    ("course", "privacy-basics", "Privacy basics"),
    ("course", "health-safety", "Health and safety at work"),
    ("course", "sales-fundamentals", "Sales fundamentals"),
    ("course", "secure-coding", "Secure coding"),
    ("collection", "onboarding", "Onboarding collection"),
    ("collection", "leadership", "Leadership essentials"),
    ("campaign", "compliance-2026", "Annual compliance campaign 2026"),
    ("campaign", "wellbeing-week", "Wellbeing week"),
]
ADMIN = ("Aroha", "Te Whare", "admin@example.co.nz")


class Command(BaseCommand):  # type: ignore[misc]
    help = "Seeds the demo LMS and its administrator of the bulk upload screens."

    def handle(self, *args: Any, **options: Any) -> None:
        for name in GROUPS:
            Cohort.objects.get_or_create(name=name)
        for kind, slug, title in CONTENT:
            Content.objects.get_or_create(kind=kind, slug=slug, defaults={"title": title})
        first, last, email = ADMIN
        users = get_user_model()
        if users.objects.filter(email__iexact=email).exists():
            self.stdout.write(f"the demo administrator {email} exists already")
            return
        password = secrets.token_urlsafe(12)
        admin = users.objects.create_superuser(username="admin", email=email, password=password,
                                               first_name=first, last_name=last)
        Learner.objects.create(user=admin, protected=True)
        self.stdout.write("Demo administrator of the screens (shown once, stored only as a hash):")
        self.stdout.write(f"  email:    {email}")
        self.stdout.write(f"  password: {password}")
