"""What is Python's own in a host object (the rest is the core's host protocol, run by
test_host_protocol.py): a method is a callable attribute, ints of any size are ids, an
exception's ``transient`` attribute asks for a retry, and the exception stays reachable as
the ``__cause__`` of the error it ends a call with."""

from __future__ import annotations

from typing import Any, List

import pytest

import lms_bulk_upload as lbu

from conftest import CHEAP_HASH

CSV = "firstname,lastname,email\nAna,Lopez,ana@x.com\nBo,Chan,bo@x.com\n"
BIG = 2**70


class Store:
    """A store with ids beyond 64 bits; records the calls it gets."""

    checkpoint: Any = None  # not callable: the store has no checkpoint method

    def __init__(self) -> None:
        self.calls: List[str] = []
        self.failures: List[Exception] = []

    def find_users(self, emails: List[str]) -> Any:
        self.calls.append("find_users")
        return [{"id": BIG, "email": "ana@x.com", "first_name": "Ana", "last_name": "Lopez"}]

    def find_groups(self, names: List[str]) -> Any:
        return []

    def find_content(self, refs: List[Any]) -> Any:
        return []

    def create_user(self, user: lbu.NewUser) -> int:
        self.calls.append("create_user")
        if self.failures:
            raise self.failures.pop(0)
        return BIG + 1

    def update_profile(self, user_id: str, changes: Any) -> None:
        self.calls.append(f"update_profile {user_id}")

    def set_password(self, user_id: str, password_hash: str, force_reset: bool) -> None:
        self.calls.append(f"set_password {user_id}")

    def add_to_group(self, user_id: str, group: Any) -> None: ...
    def remove_from_group(self, user_id: str, group: Any) -> None: ...
    def enrol(self, user_id: str, content: Any) -> None: ...


class Mailer:
    def __init__(self) -> None:
        self.queued: List[str] = []

    def send(self, message: lbu.Message) -> None:
        self.queued.append(message["to"])


def test_big_int_ids_are_text_and_a_non_callable_attribute_is_no_method() -> None:
    store = Store()
    plan = lbu.plan(lbu.parse(CSV), lbu.Settings(update_existing_passwords=True), store)
    assert [r.user_id for r in plan.rows] == [str(BIG), None]
    results = plan.execute(store, Mailer(), hash_params=CHEAP_HASH)
    assert [r.user_id for r in results.rows] == [str(BIG), str(BIG + 1)]
    assert f"set_password {BIG}" in store.calls


def test_a_truthy_transient_attribute_is_retried() -> None:
    class Locked(Exception):
        transient = 1

    store = Store()
    plan = lbu.plan(lbu.parse(CSV), lbu.Settings(), store)
    store.failures = [Locked("database is locked")]
    results = plan.execute(store, Mailer(), hash_params=CHEAP_HASH, retry_delay_ms=0)
    assert [r.status for r in results.rows] == ["unchanged", "created"]


def test_the_host_exception_is_the_cause() -> None:
    class Broken(Store):
        def find_users(self, emails: List[str]) -> Any:
            raise ConnectionResetError("connection lost")

    with pytest.raises(lbu.StoreError) as e:
        lbu.plan(lbu.parse(CSV), lbu.Settings(), Broken())
    assert e.value.code == "store_failed" and "connection lost" in e.value.message
    assert isinstance(e.value.__cause__, ConnectionResetError)


def test_a_reply_python_cannot_convert_is_an_invalid_reply() -> None:
    class Odd(Store):
        def find_users(self, emails: List[str]) -> Any:
            return [{"id": object(), "email": "ana@x.com"}]

    with pytest.raises(lbu.StoreError) as e:
        lbu.plan(lbu.parse(CSV), lbu.Settings(), Odd())
    assert e.value.code == "invalid_host_reply" and "find_users" in e.value.message
    assert isinstance(e.value.__cause__, TypeError)

