'use strict'
// Signed plans through the public API: `PlanKey`, `plan.toSignedJSON(key)` and
// `Plan.fromSignedJSON(json, key)`, refusals typed with the core's codes, the key never shown.
const test = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const lms = require('..')

const COURSE = { kind: 'course', id: 'c1' }

async function planOf(emails) {
  const csv = ['firstname,lastname,email,addgroup', ...emails.map((e, i) => `F${i},L${i},${e},Sales`)].join('\n')
  const store = new lms.MemoryStore().addGroup('g1', 'Sales').addContent(COURSE)
  return lms.plan(lms.parse(csv), { enrolments: [COURSE] }, store)
}

/** Asserts `fn` throws a `PlanError` with `code`. */
function refused(fn, code) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof lms.PlanError, `${error}`)
    assert.equal(error.code, code)
    assert.equal(error.kind, 'plan')
    return true
  })
}

test('a signed plan reads back with its key, as the same plan', async () => {
  const plan = await planOf(['ann@example.com', 'bob@example.com'])
  const key = lms.PlanKey.generate()
  const signed = plan.toSignedJSON(key)
  assert.match(JSON.parse(signed).signature, /^[0-9a-f]{64}$/)
  assert.equal(plan.toSignedJSON(key), signed, 'deterministic')
  const again = lms.Plan.fromSignedJSON(signed, lms.PlanKey.fromHex(key.toHex()))
  assert.equal(again.fingerprint, plan.fingerprint)
  assert.equal(again.toJSONString(), plan.toJSONString())
  assert.deepEqual(again.rows, plan.rows)
  // The object form is accepted too, as by Plan.fromJSON.
  assert.equal(lms.Plan.fromSignedJSON(JSON.parse(signed), key).fingerprint, plan.fingerprint)
  // A key from its raw bytes signs the same.
  const bytes = Buffer.from(key.toHex(), 'hex')
  assert.equal(plan.toSignedJSON(lms.PlanKey.fromBytes(bytes)), signed)
  assert.equal(plan.toSignedJSON(lms.PlanKey.fromBytes(new Uint8Array(bytes))), signed)
})

test('a one-byte edit of the signature is refused with plan_signature_invalid', async () => {
  const key = lms.PlanKey.generate()
  const signed = (await planOf(['ann@example.com'])).toSignedJSON(key)
  const at = signed.indexOf('"signature":"') + '"signature":"'.length
  const edited = signed.slice(0, at) + (signed[at] === '0' ? '1' : '0') + signed.slice(at + 1)
  assert.equal(edited.length, signed.length)
  refused(() => lms.Plan.fromSignedJSON(edited, key), 'plan_signature_invalid')
  // A one-byte edit of the content is refused too (its fingerprint no longer matches).
  const content = signed.replace('ann@example.com', 'anm@example.com')
  assert.throws(() => lms.Plan.fromSignedJSON(content, key), lms.PlanError)
})

test('a self-consistent forged plan (fingerprint right) carrying a genuine signature is refused', async () => {
  const key = lms.PlanKey.generate()
  const genuine = JSON.parse((await planOf(['ann@example.com'])).toSignedJSON(key))
  // The forger makes a plan of their own (its fingerprint is valid: it needs no secret).
  const forged = (await planOf(['mallory@example.com'])).toJSON()
  assert.equal(lms.Plan.fromJSON(forged).rows[0].email, 'mallory@example.com', 'the fingerprint alone lets it in')
  refused(() => lms.Plan.fromSignedJSON({ ...forged, signature: genuine.signature }, key), 'plan_signature_invalid')
})

test('a plan signed with another key is refused with plan_signature_invalid', async () => {
  const signed = (await planOf(['ann@example.com'])).toSignedJSON(lms.PlanKey.generate())
  refused(() => lms.Plan.fromSignedJSON(signed, lms.PlanKey.generate()), 'plan_signature_invalid')
})

test('an unsigned plan is refused with plan_unsigned', async () => {
  const plan = await planOf(['ann@example.com'])
  refused(() => lms.Plan.fromSignedJSON(plan.toJSONString(), lms.PlanKey.generate()), 'plan_unsigned')
})

test('a key too short or not hex is a SettingsError (invalid_setting) that never repeats it', () => {
  for (const make of [() => lms.PlanKey.fromBytes(Buffer.alloc(16, 7)), () => lms.PlanKey.fromHex('ab'.repeat(16)), () => lms.PlanKey.fromHex('zz'.repeat(32))]) {
    assert.throws(make, (error) => {
      assert.ok(error instanceof lms.SettingsError, `${error}`)
      assert.equal(error.code, 'invalid_setting')
      assert.ok(!error.message.includes('abab') && !error.message.includes('zzzz'), error.message)
      return true
    })
  }
  assert.throws(() => lms.PlanKey.fromHex(42), TypeError)
  assert.throws(() => lms.PlanKey.fromBytes('not bytes'), TypeError)
  assert.throws(() => new lms.PlanKey({}), TypeError)
})

test('the key is never in util.inspect, JSON.stringify or String()', async () => {
  const key = lms.PlanKey.generate()
  const hex = key.toHex()
  assert.match(hex, /^[0-9a-f]{64}$/)
  const shown = [
    util.inspect(key),
    util.inspect(key, { showHidden: true, depth: Infinity }),
    util.inspect({ nested: { key } }, { showHidden: true, depth: Infinity }),
    util.format('%o %O %s %j', key, key, key, key),
    JSON.stringify(key),
    JSON.stringify({ key }),
    String(key),
    `${key}`,
    Object.keys(key).join(),
  ]
  for (const text of shown) {
    assert.ok(!text.includes(hex) && !text.includes(hex.slice(0, 16)), text)
  }
  assert.equal(String(key), 'PlanKey([REDACTED])')
  assert.equal(JSON.stringify({ key }), '{"key":"PlanKey([REDACTED])"}')
  assert.ok(!(await planOf(['ann@example.com'])).toSignedJSON(key).includes(hex), 'nor in the signed plan')
})
