"""Shards through the Python API: cut a plan, execute the shards in any order (one twice),
merge the results and send the uploader's one confirmation."""

from __future__ import annotations

import json
import random

import pytest

import lms_bulk_upload as lbu

GROUPS = {"groups": [{"id": "g1", "name": "Sales"}], "content": [{"kind": "course", "id": "c1"}]}


def csv(n: int) -> bytes:
    lines = ["firstname,lastname,email,addgroup"] + [f"U{i},L{i},u{i}@example.com,Sales" for i in range(n)]
    lines.append("Bad,Row,not-an-email,")
    return ("\n".join(lines) + "\n").encode()


def settings(**extra: object) -> lbu.Settings:
    return lbu.Settings(uploader_email="admin@example.com", enrolments=[("course", "c1")], **extra)  # type: ignore[arg-type]


def test_shards_executed_in_any_order_and_twice_merge_into_one_confirmation(cheap_hash: lbu.HashParams) -> None:
    store, journal, mailer = lbu.MemoryStore(GROUPS), lbu.MemoryJournal(), lbu.RecordingMailer()
    plan = lbu.plan(lbu.parse(csv(23)), settings(), store)
    assert plan.shard is None
    shards = plan.shards(5)
    assert [len(s) for s in shards] == [5, 5, 5, 5, 4]
    assert [s.shard for s in shards] == [{"parent": plan.fingerprint, "index": i, "count": 5} for i in range(5)]
    # A shard travels as signed JSON and is a plan of its own (fingerprinted, no secret).
    key = lbu.PlanKey.generate()
    shards = [lbu.Plan.from_signed_json(s.to_signed_json(key), key) for s in shards]
    order = list(range(5))
    random.Random(7).shuffle(order)
    results: dict[int, lbu.Results] = {}
    for i in order + [order[0]]:  # the first one is delivered twice
        r = shards[i].execute(store, mailer, journal=journal, hash_params=cheap_hash)
        assert r.shard == shards[i].shard and r.confirmation_deferred
        results[i] = lbu.Results.from_signed_json(r.to_signed_json(key), key)
    assert all(m["kind"] == "welcome" for m in mailer.messages)  # no confirmation from a shard
    assert len(mailer.messages) == 23  # the repeated shard sent nothing again

    merged = lbu.Results.merge(plan, list(results.values()))
    assert merged.fingerprint == plan.fingerprint and merged.shard is None and merged.confirmation_deferred
    assert [r.line for r in merged.rows] == [r.line for r in plan.rows]
    assert merged.summary["created"] == 23 and merged.summary["rejected"] == 1
    sent = merged.send_confirmation(plan, mailer)
    assert not sent.confirmation_deferred
    (confirmation,) = [m for m in mailer.messages if m["kind"] == "upload_complete"]
    assert confirmation["to"] == "admin@example.com" and confirmation["fields"]["counts"]["created"] == 23

    users = store.state()["users"]
    assert len(users) == 23
    for m in mailer.messages:
        if m["kind"] == "welcome":
            assert store.verify_password(m["to"], m["fields"]["password"])


def test_merge_refuses_missing_duplicate_and_foreign_shards(cheap_hash: lbu.HashParams) -> None:
    store = lbu.MemoryStore(GROUPS)
    plan = lbu.plan(lbu.parse(csv(6)), settings(), store)
    done = [s.execute(store, lbu.RecordingMailer(), hash_params=cheap_hash) for s in plan.shards(3)]
    other = lbu.plan(lbu.parse(csv(2)), settings(), lbu.MemoryStore(GROUPS)).execute(
        lbu.MemoryStore(GROUPS), lbu.RecordingMailer(), hash_params=cheap_hash)
    for given, code in [(done[:2], "shard_missing"), (done + done[:1], "shard_duplicate"), (done + [other], "shard_foreign")]:
        with pytest.raises(lbu.PlanError) as e:
            lbu.Results.merge(plan, given)
        assert e.value.code == code
    with pytest.raises(lbu.PlanError) as e:
        done[0].send_confirmation(plan, lbu.RecordingMailer())
    assert e.value.code == "plan_is_shard"
    for bad in ["{not json", json.dumps({**json.loads(done[0].to_json()), "summary": {**done[0].summary, "created": 99}})]:
        with pytest.raises(lbu.PlanError) as e:
            lbu.Results.from_json(bad)
        assert e.value.code == "invalid_results"


def test_default_password_shards_carry_its_hash_only(cheap_hash: lbu.HashParams) -> None:
    secret = "Welcome-to-Intuto-2026"
    store, mailer = lbu.MemoryStore(GROUPS), lbu.RecordingMailer()
    plan = lbu.plan(lbu.parse(csv(4)), settings(generate_passwords=False, default_password=secret), store)
    with pytest.raises(lbu.PlanError) as e:
        plan.shards(2)
    assert e.value.code == "default_password_required"
    with pytest.raises(lbu.SettingsError) as bad:
        plan.shards(2, default_password=secret, hash_params={"memory_kib": 64})
    assert bad.value.code == "weak_hash_params"
    shards = plan.shards(2, default_password=secret, hash_params=cheap_hash)
    assert all(secret not in s.to_json() and "$argon2id$" in s.to_json() for s in shards)
    key = lbu.PlanKey.generate()
    for s in shards:  # a shard carries the password's hash: never read unsigned
        with pytest.raises(lbu.PlanError) as e:
            lbu.Plan.from_json(s.to_json())
        assert e.value.code == "plan_unsigned"
    results = [lbu.Plan.from_signed_json(s.to_signed_json(key), key).execute(store, mailer) for s in shards]
    merged = lbu.Results.merge(plan, results).send_confirmation(plan, mailer)
    assert json.loads(merged.to_json())["summary"]["created"] == 4
    assert all(store.verify_password(f"u{i}@example.com", secret) for i in range(4))
    with pytest.raises(lbu.PlanError) as e:
        shards[0].shards(1)
    assert e.value.code == "plan_is_shard"


def test_merge_refuses_a_stored_shard_result_naming_another_person(cheap_hash: lbu.HashParams) -> None:
    store = lbu.MemoryStore(GROUPS)
    plan = lbu.plan(lbu.parse(csv(4)), settings(), store)
    done = [s.execute(store, lbu.RecordingMailer(), hash_params=cheap_hash) for s in plan.shards(2)]
    assert lbu.Results.merge(plan, done).verified
    forged = json.loads(done[1].to_json())
    forged["rows"][0]["email"] = "admin@example.com"
    done[1] = lbu.Results.from_json(json.dumps(forged))
    with pytest.raises(lbu.PlanError) as e:
        lbu.Results.merge(plan, done)
    assert e.value.code == "shard_result_mismatch"
