'use strict'
// A host's own store and mailer whose methods are async and really wait.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store')

const CSV = [
  'firstname,lastname,email,addgroup',
  'Ana,Lopez,ana@example.com,Sales',
  'Bo,Chan,bo@example.com,',
  'Cy,Diaz,CY@example.com,Support',
  '',
].join('\n')

function store() {
  return new AsyncStore({
    delayMs: 1,
    groups: [{ id: 1, name: 'Sales' }, { id: 2, name: 'Support' }],
    content: [{ kind: 'course', id: 'c1' }],
    users: [{ id: 7, email: 'cy@example.com', profile: { firstName: 'Cy', lastName: 'Old' }, groups: [] }],
  })
}

const SETTINGS = { updateExistingProfiles: true, enrolExistingUsers: true, enrolments: [{ kind: 'course', id: 'c1' }] }

test('plan and execute through an async store and mailer', async () => {
  const host = store()
  const mailer = new AsyncMailer()
  const plan = await lms.plan(lms.parse(CSV), SETTINGS, host)
  assert.deepEqual(plan.rows.map((r) => r.action), ['create', 'create', 'update'])
  assert.equal(plan.rows[2].userId, '7', 'numeric ids come back as text')
  const results = await plan.execute(host, mailer, { hashParams: FAST_HASH })
  assert.deepEqual(results.rows.map((r) => r.status), ['created', 'created', 'updated'])
  assert.deepEqual(results.rows.map((r) => r.userId), ['100', '101', '7'])
  const ana = host.users.get('ana@example.com')
  assert.match(ana.passwordHash, /^\$argon2id\$v=19\$m=64,t=1,p=1\$/)
  assert.deepEqual(ana.groups, ['Sales'])
  assert.deepEqual(ana.enrolments, [{ kind: 'course', id: 'c1' }])
  const cy = host.users.get('cy@example.com')
  assert.deepEqual(cy.profile, { firstName: 'Cy', lastName: 'Diaz' })
  assert.deepEqual(cy.groups, ['Support'])
  assert.deepEqual(mailer.messages.map((m) => [m.kind, m.to]), [['welcome', 'ana@example.com'], ['welcome', 'bo@example.com']])
  assert.ok(mailer.messages[0].text.includes(mailer.messages[0].fields.password))
  assert.equal(host.calls.filter((c) => c === 'findUsers').length, 2, 'one batched lookup to plan, one to re-check the batch')
})

test('a rejected Promise fails its row with the message; the other rows go on', async () => {
  const host = store()
  host.failOn.set('bo@example.com', new Error('duplicate key value violates unique constraint'))
  const plan = await lms.plan(lms.parse(CSV), SETTINGS, host)
  const results = await plan.execute(host, new AsyncMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(results.rows.map((r) => r.status), ['created', 'failed', 'updated'])
  assert.deepEqual(results.rows[1].error, { code: 'store_failed', message: 'duplicate key value violates unique constraint' })
  assert.equal(results.summary.failed, 1)
})

test('a thrown error from a plain (non-async) method fails the row too', async () => {
  const host = store()
  host.enrol = () => {
    throw new TypeError('enrolments table is read-only')
  }
  const plan = await lms.plan(lms.parse(CSV), SETTINGS, host)
  const results = await plan.execute(host, new AsyncMailer(), { hashParams: FAST_HASH })
  assert.ok(results.rows.every((r) => r.status === 'failed'))
  assert.deepEqual(results.rows[0].error, { code: 'store_failed', message: 'enrolments table is read-only' })
})

test('a rejection that is not an Error object still gives a message', async () => {
  const host = store()
  host.failOn.set('ana@example.com', 'plain string reason')
  const plan = await lms.plan(lms.parse(CSV), {}, host)
  const results = await plan.execute(host, new AsyncMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(results.rows[0].error, { code: 'store_failed', message: 'plain string reason' })
})

test('an error marked transient is retried', async () => {
  const host = store()
  let attempts = 0
  const create = host.createUser.bind(host)
  host.createUser = async (user) => {
    if (user.email === 'bo@example.com' && attempts++ < 2) {
      throw Object.assign(new Error('lock wait timeout'), { transient: true })
    }
    return create(user)
  }
  const plan = await lms.plan(lms.parse(CSV), {}, host)
  const results = await plan.execute(host, new AsyncMailer(), { hashParams: FAST_HASH, retryDelayMs: 1 })
  assert.equal(results.rows[1].status, 'created')
  assert.equal(attempts, 3)
})

test('a failing mailer fails the row after the store writes', async () => {
  const host = store()
  const mailer = {
    async send(message) {
      if (message.to === 'bo@example.com') throw new Error('SMTP 550 mailbox unavailable')
    },
  }
  const plan = await lms.plan(lms.parse(CSV), {}, host)
  const results = await plan.execute(host, mailer, { hashParams: FAST_HASH })
  assert.equal(results.rows[1].status, 'failed')
  assert.deepEqual(results.rows[1].error, { code: 'mailer_failed', message: 'SMTP 550 mailbox unavailable' })
  assert.deepEqual(results.rows[1].done, [{ op: 'create_user' }])
})

test('a store failing while planning rejects with a StoreError', async () => {
  const host = store()
  host.findUsers = async () => {
    throw new Error('connection refused')
  }
  await assert.rejects(lms.plan(lms.parse(CSV), {}, host), (e) => {
    assert.ok(e instanceof lms.StoreError)
    assert.equal(e.code, 'store_failed')
    assert.equal(e.kind, 'store')
    assert.match(e.message, /connection refused/)
    return true
  })
})

test('plain methods returning values (no Promises) work as well', async () => {
  const users = []
  const host = {
    findUsers: () => [],
    findGroups: () => [],
    findContent: () => [],
    createUser: (u) => users.push(u),
    updateProfile() {},
    setPassword() {},
    addToGroup() {},
    removeFromGroup() {},
    enrol() {},
  }
  const messages = []
  const plan = await lms.plan(lms.parse('firstname,lastname,email\nA,B,a@b.co\n'), {}, host)
  const results = await plan.execute(host, { send: (m) => messages.push(m) }, { hashParams: FAST_HASH })
  assert.equal(results.rows[0].userId, '1')
  assert.equal(messages.length, 1)
})

test('group suggestions use the optional allGroupNames', async () => {
  const host = store()
  const plan = await lms.plan(lms.parse('firstname,lastname,email,addgroup\nA,B,a@b.co,sales\n'), {}, host)
  const issue = plan.rows[0].issues[0]
  assert.equal(issue.code, 'unknown_group')
  assert.match(issue.message, /Sales/)
})

test('a host object without a required method is refused by the core, with a code', async () => {
  const missing = (Class, method) => (e) => e instanceof Class && e.code === 'host_method_missing' && e.message.includes(`no method ${method}`)
  await assert.rejects(lms.plan(lms.parse(CSV), {}, { findUsers() {} }), missing(lms.StoreError, 'findGroups'))
  const plan = await lms.plan(lms.parse(CSV), {}, store())
  const readOnly = { findUsers() {}, findGroups() {}, findContent() {} }
  await assert.rejects(plan.execute(readOnly, new AsyncMailer()), missing(lms.StoreError, 'createUser'))
  await assert.rejects(plan.execute(new lms.MemoryStore(), {}), missing(lms.MailerError, 'send'))
  await assert.rejects(plan.execute(null, new AsyncMailer()), missing(lms.StoreError, 'findUsers'))
})

test('lookups are batched: one findUsers call per 1000 emails', async () => {
  const lines = ['firstname,lastname,email']
  for (let i = 0; i < 2500; i++) lines.push(`F${i},L${i},user${i}@example.com`)
  const host = new AsyncStore()
  await lms.plan(lms.parse(lines.join('\n')), {}, host)
  assert.equal(host.calls.filter((c) => c === 'findUsers').length, 3)
  host.calls = []
  await lms.plan(lms.parse(lines.join('\n')), {}, host, { lookupBatch: 500 })
  assert.equal(host.calls.filter((c) => c === 'findUsers').length, 5)
})

test('a queueing mailer is flushed after each batch, before the store checkpoint', async () => {
  const host = store()
  const order = []
  host.checkpoint = async () => order.push('checkpoint')
  const queued = []
  const mailer = {
    send: async (message) => queued.push(message.to),
    flush: async () => order.push(`flush ${queued.splice(0).join(' ')}`),
  }
  const plan = await lms.plan(lms.parse(CSV), {}, host)
  await plan.execute(host, mailer, { hashParams: FAST_HASH, batchSize: 2 })
  assert.deepEqual(order, ['flush ana@example.com bo@example.com', 'checkpoint', 'flush ', 'checkpoint'])
})

test('a store whose lookup returns nothing fails the plan with invalid_host_reply', async () => {
  const host = store()
  host.findUsers = async () => null
  await assert.rejects(lms.plan(lms.parse(CSV), {}, host), (e) => e instanceof lms.StoreError && e.code === 'invalid_host_reply' && /find_?users/i.test(e.message))
})
