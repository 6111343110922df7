'use strict'
// A journal makes a cancelled (or crashed) execution resumable: executing the same plan
// again with the same journal finishes the rest without doing anything twice.
const test = require('node:test')
const assert = require('node:assert/strict')
const { setImmediate: tick } = require('node:timers/promises')
const lms = require('..')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store')

const USERS = 8
const CSV = ['firstname,lastname,email,addgroup']
for (let i = 0; i < USERS; i++) CSV.push(`F${i},L${i},user${i}@example.com,Sales`)
CSV.push('Bad,Row,not-an-email,')

/** A journal as a host would write one: every method is async; `load` gives a Map. */
class AsyncJournal {
  constructor() {
    this.entries = new Map() // fingerprint -> Map(line -> row | null)
    this.calls = []
  }
  of(fingerprint) {
    if (!this.entries.has(fingerprint)) this.entries.set(fingerprint, new Map())
    return this.entries.get(fingerprint)
  }
  async load(fingerprint) {
    await tick()
    this.calls.push('load')
    return new Map(this.of(fingerprint))
  }
  async begin(fingerprint, line) {
    await tick()
    this.calls.push('begin')
    this.of(fingerprint).set(line, null)
  }
  async finish(fingerprint, row) {
    await tick()
    this.calls.push('finish')
    this.of(fingerprint).set(row.line, row)
  }
}

/** A store that aborts the execution (through `controller`) during its `abortAt`-th createUser. */
function abortingStore(controller, abortAt) {
  const store = new AsyncStore({ delayMs: 1, groups: [{ id: 1, name: 'Sales' }] })
  const create = store.createUser.bind(store)
  let creates = 0
  store.createUser = async (user) => {
    creates += 1
    if (creates === abortAt) controller.abort()
    return create(user)
  }
  store.creates = () => creates
  return store
}

const JOURNALS = [
  ['a JavaScript journal with async methods', () => new AsyncJournal()],
  ['the native MemoryJournal', () => new lms.MemoryJournal()],
]

for (const [name, makeJournal] of JOURNALS) {
  test(`cancelled with an AbortSignal, resumed with ${name}`, async () => {
    const controller = new AbortController()
    const store = abortingStore(controller, 3)
    const journal = makeJournal()
    const plan = await lms.plan(lms.parse(CSV.join('\n')), {}, store)
    assert.equal(plan.summary.create, USERS)
    const mailer = new AsyncMailer()

    const first = await plan.execute(store, mailer, {
      hashParams: FAST_HASH,
      batchSize: 2,
      signal: controller.signal,
      journal,
    })
    assert.equal(first.cancelled, true)
    const createdFirst = first.rows.filter((r) => r.status === 'created').length
    assert.ok(createdFirst >= 3 && createdFirst < USERS, `created ${createdFirst} before stopping`)
    assert.ok(first.rows.some((r) => r.status === 'failed' && r.error.code === 'cancelled'))
    assert.equal(store.users.size, createdFirst)

    const second = await plan.execute(store, mailer, { hashParams: FAST_HASH, batchSize: 2, journal })
    assert.equal(second.cancelled, false)
    assert.deepEqual(
      second.rows.map((r) => r.status),
      [...Array(USERS).fill('created'), 'rejected'],
    )
    assert.equal(second.summary.failed, 0)
    assert.ok(second.summary.resumed > 0)
    assert.equal(second.summary.resumed, createdFirst, 'the rows finished before the abort come from the journal')
    // Nobody was created twice; each user got exactly one welcome email.
    assert.equal(store.creates(), USERS)
    assert.equal(store.users.size, USERS)
    assert.equal(new Set(second.rows.map((r) => r.userId).filter(Boolean)).size, USERS)
    const welcomes = mailer.messages.filter((m) => m.kind === 'welcome').map((m) => m.to)
    assert.equal(welcomes.length, USERS)
    assert.equal(new Set(welcomes).size, USERS)
    // The resumed rows are the first run's rows, as recorded.
    for (const row of first.rows.filter((r) => r.status === 'created')) {
      assert.deepEqual(second.rows.find((r) => r.line === row.line), row)
    }
    if (journal instanceof AsyncJournal) {
      const entries = journal.entries.get(plan.fingerprint)
      assert.equal(entries.size, USERS, 'a rejected row writes nothing, so it is not journalled')
      const row = entries.get(2)
      assert.equal(typeof row.userId, 'string', 'rows reach the journal in camelCase')
      assert.deepEqual(Object.keys(row).sort(), ['done', 'email', 'error', 'line', 'status', 'userId'])
      assert.equal(journal.calls.filter((c) => c === 'load').length, 2)
    }
  })
}

test('a journal failure stops the execution; executing again finds the half-done user', async () => {
  const store = new AsyncStore({ groups: [{ id: 1, name: 'Sales' }] })
  const plan = await lms.plan(lms.parse(CSV.join('\n')), {}, store)
  // A plain-object journal whose `load` gives an object keyed by line, with sync methods.
  const entries = {}
  let failFinish = 2
  const journal = {
    load: () => entries,
    begin: (fingerprint, line) => {
      entries[line] = null
    },
    // The id the store gave the row's user: what lets a resumed run adopt it as its own.
    created: (fingerprint, line, userId) => {
      entries[line] = userId
    },
    finish: async (fingerprint, row) => {
      if (--failFinish === 0) throw new Error('journal table is locked')
      entries[row.line] = row
    },
  }
  await assert.rejects(
    plan.execute(store, new AsyncMailer(), { hashParams: FAST_HASH, journal }),
    (e) => e instanceof lms.StoreError && e.code === 'store_failed' && /the journal failed: journal table is locked/.test(e.message),
  )
  assert.equal(typeof entries[3], 'string', 'the second row was begun and its user created, never finished')
  assert.equal(store.users.size, 2)

  const again = await plan.execute(store, new AsyncMailer(), { hashParams: FAST_HASH, journal })
  assert.equal(again.summary.failed, 0)
  assert.equal(again.summary.created, USERS)
  assert.equal(again.summary.resumed, 1)
  assert.equal(store.users.size, USERS)
  assert.deepEqual(again.rows[1].done.slice(0, 2), [{ op: 'recover_user' }, { op: 'set_password' }], JSON.stringify(again.rows[1].done))
})

test('a journal whose load fails or gives the wrong shape stops before any row', async () => {
  const store = new AsyncStore()
  const plan = await lms.plan(lms.parse(CSV.join('\n')), {}, store)
  const base = { begin() {}, finish() {} }
  await assert.rejects(
    plan.execute(store, new AsyncMailer(), { hashParams: FAST_HASH, journal: { ...base, load: async () => Promise.reject(new Error('no db')) } }),
    (e) => e instanceof lms.StoreError && /the journal failed: no db/.test(e.message),
  )
  await assert.rejects(
    plan.execute(store, new AsyncMailer(), { hashParams: FAST_HASH, journal: { ...base, load: () => ({ two: null }) } }),
    (e) => e instanceof lms.StoreError && e.code === 'invalid_host_reply' && /journal\.load gave "two" as a line number/.test(e.message),
  )
  assert.equal(store.users.size, 0)
})

test('a journal without its methods is refused by the core, with a code', async () => {
  const store = new lms.MemoryStore()
  const plan = await lms.plan(lms.parse(CSV.join('\n')), {}, store)
  const missing = (method) => (e) => e instanceof lms.StoreError && e.code === 'host_method_missing' && e.message.includes(`journal object has no method ${method}`)
  await assert.rejects(plan.execute(store, new lms.RecordingMailer(), { journal: { load() {} } }), missing('begin'))
  await assert.rejects(plan.execute(store, new lms.RecordingMailer(), { journal: 'journal.db' }), missing('load'))
  assert.equal(store.state().users.length, 0)
})
