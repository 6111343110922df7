'use strict'
// Issue 19 (part B) through the public API: values nested too deep or containing themselves
// are coded errors (arguments and host replies), the reactivation setting, the IDNA identity,
// the missing-users threshold, secret settings never echoed, zxcvbn's judgement.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')

const nested = (depth) => {
  let value = 'x'
  for (let i = 0; i < depth; i++) value = [value]
  return value
}
const user = (email, extra = {}) => ({ email, firstName: 'A', lastName: 'X', ...extra })

test('an argument nested 2,000 deep or containing itself is a coded error', () => {
  assert.throws(() => new lms.Settings({ enrolments: nested(2000) }), (e) => e instanceof lms.SettingsError && e.code === 'invalid_option')
  const loop = []
  loop.push(loop)
  assert.throws(() => new lms.Settings({ groups: loop }), (e) => e instanceof lms.SettingsError && e.code === 'invalid_option')
  assert.throws(() => new lms.MemoryStore({ users: loop }), { code: 'invalid_option' })
})

const deepStore = (reply) => ({
  findUsers: async () => reply,
  findGroups: async () => [],
  findContent: async () => [],
  createUser: async () => '1',
  updateProfile: async () => {},
  setPassword: async () => {},
  addToGroup: async () => {},
  removeFromGroup: async () => {},
  enrol: async () => {},
})

test('a host reply nested 2,000 deep or containing itself is invalid_host_reply', async () => {
  const upload = lms.parse('firstname,lastname,email\nAna,X,ana@x.com\n')
  const loop = []
  loop.push(loop)
  for (const reply of [nested(2000), loop]) {
    await assert.rejects(lms.plan(upload, {}, deepStore(reply)), (e) => e instanceof lms.StoreError && e.code === 'invalid_host_reply')
  }
})

test('reactivation is its own setting, for users an upload suspended only', async () => {
  const upload = lms.parse('firstname,lastname,email\nEd,X,ed@x.com\nBo,X,bo@x.com\n')
  const state = { users: [user('ed@x.com', { suspended: true }), user('bo@x.com', { suspended: true, suspendedByUpload: true })] }
  const ops = (plan) => plan.rows.map((r) => (r.operations ?? []).map((o) => o.op))
  const profiles = await lms.plan(upload, { updateExistingProfiles: true }, new lms.MemoryStore(state))
  assert.ok(!ops(profiles).flat().includes('reactivate_user'))
  const settings = new lms.Settings({ reactivateSuspendedUsers: true })
  assert.equal(settings.toJSON().reactivateSuspendedUsers, true)
  const reactivating = await lms.plan(upload, settings, new lms.MemoryStore(state))
  assert.deepEqual(ops(reactivating), [[], ['reactivate_user']])
  assert.ok(reactivating.rows[0].issues.some((i) => i.code === 'user_suspended'))
})

test('IDNA domains are one identity', async () => {
  const upload = lms.parse('firstname,lastname,email\nAna,Y,ana@bücher.de\n')
  const store = new lms.MemoryStore({ users: [user('ana@xn--bcher-kva.de')] })
  const plan = await lms.plan(upload, { updateExistingProfiles: true }, store)
  assert.equal(plan.rows[0].action, 'update')
})

test('the threshold counts only users who can be suspended', async () => {
  const users = Array.from({ length: 12 }, (_, i) => user(`u${i}@x.com`, { suspended: i < 9 }))
  const upload = lms.parse('firstname,lastname,email\nA,X,u9@x.com\n')
  await assert.rejects(
    lms.plan(upload, { suspendMissingUsers: true, missingUsersThreshold: 50 }, new lms.MemoryStore({ users })),
    (e) => e.code === 'missing_users_threshold' && e.message.includes('2 of the 3'),
  )
})

test('a secret setting of the wrong type is never echoed', () => {
  for (const value of [31415926535, 2.718281828, ['Sekr3t-pass-9'], true]) {
    assert.throws(
      () => new lms.Settings({ generatePasswords: false, defaultPassword: value }),
      (e) => e.code === 'invalid_setting' && !/31415926535|718281828|Sekr3t/.test(e.message + String(e)),
    )
  }
})

test('a weak default password is refused with zxcvbn\'s reason, not the password', () => {
  assert.throws(
    () => new lms.Settings({ generatePasswords: false, defaultPassword: 'Welcome2024!' }),
    (e) => e.code === 'weak_default_password' && e.message.includes('zxcvbn') && !e.message.includes('Welcome2024!'),
  )
})

test('emailKey is the engine\'s identity of an address', () => {
  assert.equal(lms.emailKey('Ana@Bücher.de'), 'ana@xn--bcher-kva.de')
  assert.equal(lms.emailKey('ANA@XN--BCHER-KVA.DE'), 'ana@xn--bcher-kva.de')
})
