'use strict'
// Undo (issue 14) through the public API: planUndo() with a host's own store object, whose
// optional undo methods (suspendUser, deleteUser, withdraw) are found by the engine, and
// with the MemoryStore double.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store')

const CSV = [
  'firstname,lastname,email,addgroup',
  'Ana,Lopez,ana@example.com,Sales',
  'Bo,Chan,bo@example.com,',
  'Cy,Diaz,cy@example.com,Support',
  '',
].join('\n')
const SETTINGS = { updateExistingProfiles: true, enrolExistingUsers: true, enrolments: [{ kind: 'course', id: 'c1' }] }
const WRITES = ['createUser', 'updateProfile', 'setPassword', 'addToGroup', 'removeFromGroup', 'enrol', 'suspendUser', 'deleteUser', 'withdraw']

/**
 * The nine store methods (async, like a database driver's), plus `suspendUser` (async) and
 * `withdraw` (a plain function): no `deleteUser`. Users it reports carry `suspended`.
 */
class UndoableStore extends AsyncStore {
  async findUsers(emails) {
    const found = await super.findUsers(emails)
    return found.map((u) => ({ ...u, suspended: this.users.get(u.email.toLowerCase()).suspended === true }))
  }
  async suspendUser(id) {
    await this.wait('suspendUser')
    this.byId(id).suspended = true
  }
  withdraw(id, content) {
    this.calls.push('withdraw')
    const u = this.byId(id)
    u.enrolments = u.enrolments.filter((c) => !(c.kind === content.kind && c.id === content.id))
  }
}

function host() {
  return new UndoableStore({
    groups: [{ id: 1, name: 'Sales' }, { id: 2, name: 'Support' }],
    content: [{ kind: 'course', id: 'c1' }],
    users: [{ id: 7, email: 'cy@example.com', profile: { firstName: 'Cy', lastName: 'Old', organisation: 'Acme' }, groups: [] }],
  })
}

/** The upload executed through `store`: its results. */
async function upload(store) {
  const plan = await lms.plan(lms.parse(CSV), SETTINGS, store)
  const results = await plan.execute(store, new AsyncMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(results.rows.map((r) => r.status), ['created', 'created', 'updated'])
  assert.equal(results.undoOf, null)
  return results
}

test('a store without deleteUser: an undo that deletes is refused (undo_unsupported) before any write', async () => {
  const store = host()
  const results = await upload(store)
  const before = store.calls.length
  const error = await lms.planUndo(results, store, { deleteCreatedUsers: true }).catch((e) => e)
  assert.ok(error instanceof lms.StoreError, `a StoreError, not ${error}`)
  assert.equal(error.code, 'undo_unsupported')
  assert.equal(error.kind, 'store')
  assert.match(error.message, /delete_user/)
  const calls = store.calls.slice(before)
  assert.ok(calls.length > 0 && calls.every((c) => !WRITES.includes(c)), `only reads: ${calls}`)
  assert.equal(store.users.size, 3)
  assert.ok([...store.users.values()].every((u) => !u.suspended))
})

test('without deleteCreatedUsers the undo executes through that store', async () => {
  const store = host()
  const results = await upload(store)
  const cyAfterUpload = store.users.get('cy@example.com')
  assert.deepEqual(cyAfterUpload.profile, { firstName: 'Cy', lastName: 'Diaz', organisation: 'Acme' })

  const undo = await lms.planUndo(results, store, { uploaderEmail: 'admin@example.com' })
  assert.equal(undo.undoOf, results.fingerprint)
  assert.equal(undo.summary.suspensions, 2)
  assert.equal(undo.summary.withdrawals, 3)
  assert.equal(undo.summary.deletions, 0, 'every count is there, 0 included (the plan JSON leaves it out)')
  assert.deepEqual(undo.rows.map((r) => [r.line, r.email, r.action]), [
    [2, 'ana@example.com', 'update'],
    [3, 'bo@example.com', 'update'],
    [4, 'cy@example.com', 'update'],
  ])
  // Stored and read back, it is still the undo of that upload.
  assert.equal(lms.Plan.fromJSON(undo.toJSONString()).undoOf, results.fingerprint)

  const before = store.calls.length
  const mailer = new AsyncMailer()
  const undone = await undo.execute(store, mailer, { hashParams: FAST_HASH })
  assert.equal(undone.undoOf, results.fingerprint)
  assert.deepEqual(undone.summary, { rows: 3, created: 0, updated: 3, unchanged: 0, rejected: 0, failed: 0, emailsSent: 0, resumed: 0, suspended: 2, deleted: 0, reactivated: 0, loginMethodsChanged: 0 })
  const calls = store.calls.slice(before)
  assert.equal(calls.filter((c) => c === 'suspendUser').length, 2)
  assert.equal(calls.filter((c) => c === 'withdraw').length, 3)
  assert.ok(!calls.some((c) => ['createUser', 'setPassword', 'enrol', 'addToGroup', 'deleteUser'].includes(c)), `${calls}`)

  const [ana, bo, cy] = ['ana', 'bo', 'cy'].map((name) => store.users.get(`${name}@example.com`))
  for (const created of [ana, bo]) {
    assert.equal(created.suspended, true)
    assert.deepEqual(created.groups, [])
    assert.deepEqual(created.enrolments, [])
  }
  assert.equal(cy.suspended, undefined, 'the existing user is not suspended')
  assert.deepEqual(cy.profile, { firstName: 'Cy', lastName: 'Old', organisation: 'Acme' })
  assert.deepEqual(cy.groups, [])
  assert.deepEqual(cy.enrolments, [])
  assert.deepEqual(undone.rows.find((r) => r.email === 'cy@example.com').done.map((d) => d.op), ['update_profile', 'withdraw', 'remove_from_group'])
  assert.deepEqual(mailer.messages.map((m) => [m.kind, m.to]), [['undo_complete', 'admin@example.com']])

  // The undo's results cannot be undone.
  const again = await lms.planUndo(undone, store).catch((e) => e)
  assert.ok(again instanceof lms.PlanError, `a PlanError, not ${again}`)
  assert.equal(again.code, 'undo_of_undo')
  assert.equal(again.kind, 'plan')
})

test('deleteUser returns whether it deleted: a user the store keeps is suspended', async () => {
  const store = host()
  const results = await upload(store)
  store.deleteUser = async (id) => {
    await store.wait('deleteUser')
    const user = store.byId(id)
    if (user.email === 'bo@example.com') return false // say Bo has posted since
    store.users.delete(user.email.toLowerCase())
    return true
  }
  const undo = await lms.planUndo(results, store, { deleteCreatedUsers: true })
  assert.equal(undo.summary.deletions, 2)
  const undone = await undo.execute(store, new AsyncMailer())
  assert.deepEqual(undone.summary.failed, 0)
  assert.equal(store.users.has('ana@example.com'), false)
  assert.equal(store.users.get('bo@example.com').suspended, true)
  const ops = (email) => undone.rows.find((r) => r.email === email).done.map((d) => d.op)
  assert.ok(ops('ana@example.com').includes('delete_user'), `${ops('ana@example.com')}`)
  assert.ok(ops('bo@example.com').includes('suspend_user'), `${ops('bo@example.com')}`)
})

test('a deleteUser reply that is not a boolean fails its row (invalid_host_reply)', async () => {
  const store = host()
  const results = await upload(store)
  store.deleteUser = () => 'yes'
  const undo = await lms.planUndo(results, store, { deleteCreatedUsers: true })
  const undone = await undo.execute(store, new AsyncMailer(), { retryDelayMs: 0 })
  const failed = undone.rows.filter((r) => r.status === 'failed')
  assert.deepEqual(failed.map((r) => [r.email, r.error.code]), [
    ['ana@example.com', 'invalid_host_reply'],
    ['bo@example.com', 'invalid_host_reply'],
  ])
})

test('with the MemoryStore double: undo, undoOf, a store that lacks a write, options checked', async () => {
  const state = { groups: [{ id: 'g1', name: 'Sales' }, { id: 'g2', name: 'Support' }], content: [{ kind: 'course', id: 'c1' }] }
  const store = new lms.MemoryStore({ ...state, users: [{ id: 'u7', email: 'cy@example.com', firstName: 'Cy', lastName: 'Old' }] })
  const plan = await lms.plan(lms.parse(CSV), SETTINGS, store)
  assert.equal(plan.undoOf, null)
  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })

  const lacking = new lms.MemoryStore({ ...store.state(), lacks: ['withdraw'] })
  await assert.rejects(lms.planUndo(results, lacking), { name: 'StoreError', code: 'undo_unsupported' })
  await assert.rejects(lms.planUndo(results, store, { delete: true }), { name: 'SettingsError', code: 'invalid_option' })
  await assert.rejects(lms.planUndo(results, store, { resultsUrl: 'javascript:alert(1)' }), { name: 'SettingsError', code: 'invalid_setting' })
  await assert.rejects(lms.planUndo(plan, store), TypeError)

  const undo = await lms.planUndo(results, store, { delete_created_users: true }) // snake_case too
  assert.equal(undo.summary.deletions, 2)
  const undone = await undo.execute(store, new lms.RecordingMailer())
  assert.equal(undone.undoOf, plan.fingerprint)
  assert.deepEqual(store.state().users.map((u) => [u.email, u.lastName, u.groups, u.enrolments, u.suspended]), [
    ['cy@example.com', 'Old', [], [], false],
  ])
  await assert.rejects(lms.planUndo(undone, store), { name: 'PlanError', code: 'undo_of_undo' })
  // Read back from its JSON, an undo's results are still refused.
  await assert.rejects(lms.planUndo(lms.Results.fromJSON(undone.toJSONString()), store), { code: 'undo_of_undo' })
})

test('results read back unsigned drive no undo; signed ones do', async () => {
  const store = new lms.MemoryStore()
  const upload = lms.parse('firstname,lastname,email\nAna,Lee,ana@example.com\n')
  const plan = await lms.plan(upload, {}, store)
  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.equal(results.verified, true)
  const stored = lms.Results.fromJSON(results.toJSONString())
  assert.equal(stored.verified, false)
  await assert.rejects(lms.planUndo(stored, store), { name: 'PlanError', code: 'results_unsigned' })
  const vouched = await lms.planUndo(stored, store, { resultsFromTrustedStorage: true })
  assert.equal(vouched.summary.suspensions ?? 0, 0, 'unverified results suspend no one')
  const key = lms.PlanKey.generate()
  const signed = lms.Results.fromSignedJSON(results.toSignedJSON(key), key)
  assert.equal(signed.verified, true)
  assert.equal((await lms.planUndo(signed, store)).summary.suspensions, 1)
  assert.throws(() => lms.Results.fromSignedJSON(results.toSignedJSON(key).replace('ana@', 'eve@'), key), { code: 'results_signature_invalid' })
  assert.throws(() => lms.Results.fromSignedJSON(results.toJSONString(), key), { code: 'results_unsigned' })
})
