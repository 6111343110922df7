'use strict'
// Per-row enrolments (course, collection, campaign columns) through the public API.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { FAST_HASH } = require('./async-store')

const CSV = [
  'firstname,lastname,email,course,campaign',
  'Ana,Lopez,ana@x.com,c2;c1,',
  'Bo,Chan,bo@x.com,intro-110,',
  'Cy,Diaz,cy@x.com,,camp1',
  '',
].join('\n')
const STATE = {
  content: [
    { kind: 'course', id: 'c1' },
    { kind: 'course', id: 'c2' },
    { kind: 'course', id: 'intro-101' },
    { kind: 'campaign', id: 'camp1' },
  ],
  users: [],
}

test('per-row enrolments are planned beside the settings, executed and undone', async () => {
  const store = new lms.MemoryStore(STATE)
  const upload = lms.parse(CSV)
  assert.equal(upload.rows[0].values.course, 'c2;c1')
  const plan = await lms.plan(upload, { enrolments: [{ kind: 'course', id: 'c1' }] }, store)
  const [ana, bo, cy] = plan.rows
  const enrols = (row) => row.operations.filter((o) => o.op === 'enrol').map((o) => o.content.id)
  assert.deepEqual(enrols(ana), ['c1', 'c2'])
  assert.equal(bo.action, 'rejected')
  assert.equal(bo.issues[0].code, 'unknown_content')
  assert.equal(bo.issues[0].column, 'course')
  assert.deepEqual(enrols(cy), ['c1', 'camp1'])

  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  const users = Object.fromEntries(store.state().users.map((u) => [u.email, u]))
  assert.equal(users['ana@x.com'].enrolments.length, 2)
  const undo = await lms.planUndo(results, store)
  assert.equal(undo.summary.withdrawals, 4)
  await undo.execute(store, new lms.RecordingMailer())
  assert.ok(store.state().users.every((u) => u.enrolments.length === 0))
})
