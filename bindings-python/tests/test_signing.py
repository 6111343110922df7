"""Signed plans through the Python API: PlanKey, Plan.to_signed_json, Plan.from_signed_json."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

import lms_bulk_upload as lbu

CSV = b"First Name,Last Name,Email,addgroup\nAna,Lopez,ana@example.com,Sales\nBo,Diaz,bo@example.com,\n"


def make_plan() -> lbu.Plan:
    store = lbu.MemoryStore({"groups": [{"id": "g1", "name": "Sales"}]})
    return lbu.plan(lbu.parse(CSV), lbu.Settings(generate_passwords=True), store)


def test_round_trip_with_the_same_key_read_back_from_hex_and_bytes() -> None:
    plan, key = make_plan(), lbu.PlanKey.generate()
    signed = plan.to_signed_json(key)
    assert signed == plan.to_signed_json(key), "deterministic"
    assert json.loads(signed)["signature"] != ""
    texts: list[str | bytes] = [signed, signed.encode()]
    for same in [key, lbu.PlanKey.from_hex(key.to_hex()), lbu.PlanKey.from_hex(key.to_hex().upper()),
                 lbu.PlanKey.from_bytes(bytes.fromhex(key.to_hex()))]:
        for text in texts:
            back = lbu.Plan.from_signed_json(text, same)
            assert back.fingerprint == plan.fingerprint
            assert back.to_json() == plan.to_json()
            assert back.summary == plan.summary


def test_a_one_byte_edit_is_refused() -> None:
    plan, key = make_plan(), lbu.PlanKey.generate()
    signed = plan.to_signed_json(key)
    at = signed.index('"signature":"') + len('"signature":"')
    # One byte of the signature: the content is intact, the signature does not match.
    edited = signed[:at] + ("1" if signed[at] == "0" else "0") + signed[at + 1:]
    assert len(edited) == len(signed) and edited != signed
    with pytest.raises(lbu.PlanError) as refused:
        lbu.Plan.from_signed_json(edited, key)
    assert refused.value.code == "plan_signature_invalid"
    # One byte of the content (an email): refused as well (the fingerprint sees it first).
    content = signed.replace("ana@example.com", "anb@example.com", 1)
    assert len(content) == len(signed) and content != signed
    with pytest.raises(lbu.PlanError):
        lbu.Plan.from_signed_json(content, key)


def test_another_key_is_refused() -> None:
    plan = make_plan()
    signed = plan.to_signed_json(lbu.PlanKey.generate())
    with pytest.raises(lbu.PlanError) as refused:
        lbu.Plan.from_signed_json(signed, lbu.PlanKey.generate())
    assert refused.value.code == "plan_signature_invalid"


def test_an_unsigned_plan_is_refused() -> None:
    plan, key = make_plan(), lbu.PlanKey.generate()
    with pytest.raises(lbu.PlanError) as refused:
        lbu.Plan.from_signed_json(plan.to_json(), key)
    assert refused.value.code == "plan_unsigned"
    value = json.loads(plan.to_signed_json(key))
    del value["signature"]
    with pytest.raises(lbu.PlanError) as stripped:
        lbu.Plan.from_signed_json(json.dumps(value), key)
    assert stripped.value.code == "plan_unsigned"


def test_the_key_is_never_in_repr_or_str_and_cannot_be_pickled() -> None:
    key = lbu.PlanKey.generate()
    secret = key.to_hex()
    assert len(secret) == 64 and secret == secret.lower()
    for shown in [repr(key), str(key), f"{key}", f"{key!r}", repr([key])]:
        assert secret not in shown and secret.upper() not in shown
        assert "REDACTED" in shown
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)
    assert secret not in make_plan().to_signed_json(key)


def test_bad_keys_are_settings_errors_that_do_not_repeat_the_text() -> None:
    for text in ["00" * 16, "zz" * 32, "abc"]:
        with pytest.raises(lbu.SettingsError) as bad:
            lbu.PlanKey.from_hex(text)
        assert bad.value.code == "invalid_setting"
        assert text not in str(bad.value)
    with pytest.raises(lbu.SettingsError) as short:
        lbu.PlanKey.from_bytes(b"\x07" * 31)
    assert short.value.code == "invalid_setting"
    assert lbu.PlanKey.generate().to_hex() != lbu.PlanKey.generate().to_hex()
