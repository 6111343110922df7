'use strict'
// Shards through the public API: a plan cut into shards, executed in any order (one twice)
// on one store with one journal, merged, and the uploader's confirmation sent once.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { FAST_HASH } = require('./async-store')

const USERS = 23
const CSV = ['firstname,lastname,email,addgroup']
for (let i = 0; i < USERS; i++) CSV.push(`F${i},L${i},user${i}@example.com,Sales`)
CSV.push('Bad,Row,not-an-email,')
const COURSE = { kind: 'course', id: 'c1' }
const KEY = lms.PlanKey.generate()

function newStore() {
  return new lms.MemoryStore().addGroup('g1', 'Sales').addContent(COURSE)
}

async function planOn(store, settings) {
  const upload = lms.parse(CSV.join('\n'))
  return lms.plan(upload, new lms.Settings({ enrolments: [COURSE], uploaderEmail: 'boss@example.com', ...settings }), store)
}

/** Fisher-Yates with a fixed seed (the order is arbitrary, the test repeatable). */
function shuffled(items, seed = 7) {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    const j = seed % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

test('shards executed out of order, one twice, merge into one result and one confirmation', async () => {
  const store = newStore()
  const plan = await planOn(store)
  assert.equal(plan.shard, null)
  const shards = plan.shards(5)
  assert.equal(shards.length, 5)
  shards.forEach((shard, index) => {
    assert.deepEqual(shard.shard, { parent: plan.fingerprint, index, count: 5 })
    assert.notEqual(shard.fingerprint, plan.fingerprint)
    // A shard survives its signed JSON (what a queue carries); unsigned it is refused.
    assert.deepEqual(lms.Plan.fromSignedJSON(shard.toSignedJSON(KEY), KEY).shard, shard.shard)
    assert.throws(() => lms.Plan.fromJSON(shard.toJSONString()), { name: 'PlanError', code: 'plan_unsigned' })
  })
  assert.deepEqual(shards.map((s) => s.rows.length), [5, 5, 5, 5, 4])

  const mailer = new lms.RecordingMailer()
  const journal = new lms.MemoryJournal()
  const options = { hashParams: FAST_HASH, journal }
  const results = new Map()
  for (const shard of shuffled(shards)) {
    results.set(shard.shard.index, await shard.execute(store, mailer, options))
  }
  const before = mailer.messages.length
  const again = await shards[2].execute(store, mailer, options) // redelivered
  assert.equal(mailer.messages.length, before, 'a redelivered shard sends nothing again')
  assert.equal(again.summary.resumed, 5)
  assert.deepEqual(again.rows, results.get(2).rows)

  for (const [index, r] of results) {
    assert.deepEqual(r.shard, { parent: plan.fingerprint, index, count: 5 })
    assert.equal(r.confirmationDeferred, true)
  }
  assert.ok(!mailer.messages.some((m) => m.kind === 'upload_complete'), 'no shard confirms')

  // The finaliser: results as a worker saved them, in any order.
  const saved = shuffled([...results.values()], 3).map((r) => lms.Results.fromSignedJSON(r.toSignedJSON(KEY), KEY))
  const merged = lms.Results.merge(plan, saved)
  assert.equal(merged.verified, true)
  assert.equal(merged.fingerprint, plan.fingerprint)
  assert.equal(merged.shard, null)
  assert.equal(merged.confirmationDeferred, true, 'not yet confirmed')
  assert.equal(merged.summary.created, USERS)
  assert.equal(merged.summary.rejected, 1)
  assert.deepEqual(merged.rows.map((r) => r.line), plan.rows.map((r) => r.line))

  const sent = []
  const hostMailer = { async send(message) { sent.push(message) } }
  assert.equal(await merged.sendConfirmation(plan, hostMailer), merged)
  assert.equal(sent.length, 1)
  assert.equal(sent[0].kind, 'upload_complete')
  assert.equal(sent[0].to, 'boss@example.com')
  assert.equal(sent[0].fields.counts.created, USERS)
  assert.equal(sent[0].fields.counts.rejected, 1)
  assert.equal(merged.confirmationError, null)
  assert.equal(merged.confirmationDeferred, false)

  // Every user once, in the group and enrolled; every emailed password verifies.
  const users = store.state().users
  assert.equal(users.length, USERS)
  assert.equal(new Set(users.map((u) => u.email)).size, USERS)
  for (const user of users) {
    assert.deepEqual(user.groups, ['Sales'])
    assert.deepEqual(user.enrolments, [COURSE])
  }
  const last = new Map()
  for (const m of mailer.messages) if (m.fields.password) last.set(m.to, m.fields.password)
  assert.equal(last.size, USERS)
  for (const [email, password] of last) assert.ok(store.verifyPassword(email, password), email)
})

test('a default-password plan: shards carry its hash, never the plaintext', async () => {
  const password = 'Welcome-2026-LMS'
  const store = newStore()
  const plan = await planOn(store, { generatePasswords: false, defaultPassword: password })
  await assert.rejects(async () => plan.shards(10), { code: 'default_password_required' })
  const shards = plan.shards(10, { defaultPassword: password, hashParams: FAST_HASH })
  assert.equal(shards.length, 3)
  const mailer = new lms.RecordingMailer()
  const results = []
  for (const shard of shards) {
    const text = shard.toJSONString()
    assert.ok(!text.includes(password), 'no plaintext in a shard')
    assert.match(JSON.parse(text).shard.default_password_hash, /^\$argon2id\$/)
    // A worker has no password: it executes the shard as read from the queue.
    assert.throws(() => lms.Plan.fromJSON(text), { code: 'plan_unsigned' })
    const signed = shard.toSignedJSON(KEY)
    results.push(await lms.Plan.fromSignedJSON(signed, KEY).execute(store, mailer, { hashParams: FAST_HASH }))
  }
  const merged = lms.Results.merge(plan, results)
  assert.equal(merged.summary.created, USERS)
  const confirmations = new lms.RecordingMailer()
  await merged.sendConfirmation(plan, confirmations)
  assert.deepEqual(confirmations.messages.map((m) => m.kind), ['upload_complete'])
  for (const user of store.state().users) assert.ok(store.verifyPassword(user.email, password))
})

test('refusals carry the core codes', async () => {
  const store = newStore()
  const plan = await planOn(store)
  const shards = plan.shards(10)
  assert.throws(() => shards[0].shards(2), { code: 'plan_is_shard' })
  assert.throws(() => plan.shards(0), { code: 'invalid_option' })
  assert.throws(() => plan.shards(5, { password: 'x' }), TypeError)
  const mailer = new lms.RecordingMailer()
  const results = []
  for (const shard of shards) results.push(await shard.execute(store, mailer, { hashParams: FAST_HASH }))
  assert.throws(() => lms.Results.merge(plan, results.slice(1)), { code: 'shard_missing' })
  assert.throws(() => lms.Results.merge(plan, [...results, results[0]]), { code: 'shard_duplicate' })
  await assert.rejects(results[0].sendConfirmation(plan, mailer), { code: 'plan_is_shard' })
  const failing = { send() { throw new Error('smtp down') } }
  const merged = lms.Results.merge(plan, results)
  await assert.rejects(merged.sendConfirmation(plan, failing), { code: 'mailer_failed' })
  assert.equal(merged.confirmationError?.code ?? null, null, 'a rejected call leaves the results as they were')
})

test('merge refuses a stored shard result that names another person on a line', async () => {
  const store = newStore()
  const plan = await planOn(store)
  const results = []
  for (const shard of plan.shards(10)) results.push(await shard.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH }))
  const forged = JSON.parse(results[1].toJSONString())
  forged.rows[0].email = 'boss@example.com'
  results[1] = lms.Results.fromJSON(forged)
  assert.equal(results[1].verified, false)
  assert.throws(() => lms.Results.merge(plan, results), { name: 'PlanError', code: 'shard_result_mismatch' })
})
