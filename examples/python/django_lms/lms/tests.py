"""The example store's sign-in link methods on PostgreSQL (``python manage.py test lms``, a
test database made by Django's runner): only digests kept; a newer upload's link revokes the
older unused one; of concurrent redemptions of one link exactly one succeeds; a redemption
rolled back (its password not set) leaves the link working; undo's revoke."""

from __future__ import annotations

import secrets
import threading
import time
from typing import List

from django.db import connection, transaction  # type: ignore[import-untyped]
from django.test import TransactionTestCase  # type: ignore[import-untyped]

from .bulk_upload import LmsStore
from .models import Invitation

HOUR = 3600


def digest() -> str:
    return secrets.token_hex(32)


class SignInLinks(TransactionTestCase):  # type: ignore[misc]
    def setUp(self) -> None:
        self.store = LmsStore()
        self.user = str(self.store.create_user({
            "email": "ana@example.org", "profile": {"first_name": "Ana"}, "password_hash": None,
            "force_password_reset": False, "login_method": "password",
        }))
        self.store.checkpoint()
        self.expires = int(time.time()) + HOUR

    def add(self, upload: str) -> str:
        d = digest()
        self.store.add_invitation({"user": self.user, "digest": d, "expires_at": self.expires, "upload": upload})
        self.store.checkpoint()
        return d

    def test_digests_kept_and_revoked_by_a_newer_upload_and_by_undo(self) -> None:
        first = self.add("upload-a")
        self.assertEqual(self.store.find_invitation(first),
                         {"user": self.user, "digest": first, "expires_at": self.expires, "used": False})
        self.assertIsNone(self.store.find_invitation(digest()))
        again = self.add("upload-a")  # a resumed run of the same upload keeps the first
        self.assertIsNotNone(self.store.find_invitation(first))
        newer = self.add("upload-b")
        self.assertIsNone(self.store.find_invitation(first))
        self.assertIsNone(self.store.find_invitation(again))
        self.store.revoke_invitations(self.user, "upload-a")
        self.store.checkpoint()
        self.assertIsNotNone(self.store.find_invitation(newer))
        self.store.revoke_invitations(self.user, "upload-b")
        self.store.checkpoint()
        self.assertIsNone(self.store.find_invitation(newer))
        self.assertEqual(Invitation.objects.count(), 0)

    def test_concurrent_redemptions_one_wins(self) -> None:
        link, other = self.add("upload-a"), self.add("upload-a")
        start = threading.Barrier(6)
        outcomes: List[bool] = []

        def redeem() -> None:
            try:
                start.wait()
                store = LmsStore()
                used = store.redeem_invitation(link)
                if used:
                    store.checkpoint()
                else:
                    transaction.rollback()
                    transaction.set_autocommit(True)
                outcomes.append(used)
            finally:
                connection.close()

        threads = [threading.Thread(target=redeem) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(outcomes), [False] * 5 + [True])
        found = self.store.find_invitation(link)
        self.assertTrue(found is not None and found["used"])
        self.assertIsNone(self.store.find_invitation(other), "the user's other unused link is gone")
        self.assertFalse(self.store.redeem_invitation(link))
        transaction.rollback()
        transaction.set_autocommit(True)

    def test_a_redemption_rolled_back_leaves_the_link_working(self) -> None:
        link = self.add("upload-a")
        self.assertTrue(self.store.redeem_invitation(link))
        # The password could not be set: no checkpoint; the request rolls back.
        transaction.rollback()
        transaction.set_autocommit(True)
        found = self.store.find_invitation(link)
        self.assertTrue(found is not None and not found["used"])
