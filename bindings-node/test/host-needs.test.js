'use strict'
// Issue 15 through the public API, with a host's own store object: users missing from the
// file suspended through the host's paged `scopeUsers` and `suspendUser`, SSO users created
// without a password, and the host's own profile fields reaching `createUser` and
// `updateProfile` (and coming back from `findUsers`) under their declared names.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { unforwardedStoreMethods } = require('../testing')
const { AsyncStore, FAST_HASH } = require('./async-store')

const WRITES = ['createUser', 'updateProfile', 'setPassword', 'addToGroup', 'removeFromGroup', 'enrol', 'suspendUser', 'reactivateUser', 'setLoginMethod']

/**
 * A store that keeps what issue 15 adds: `suspended`, `loginMethod` and the profile's
 * `custom` fields, all reported by `findUsers`; `scopeUsers` pages through every user, two
 * per page whatever the limit, with the position as the cursor. `without` leaves methods out.
 */
class HostStore extends AsyncStore {
  constructor(state, { without = [] } = {}) {
    super(state)
    this.created = [] // what createUser received
    this.pages = [] // scopeUsers(after, limit) arguments
    for (const method of without) this[method] = undefined
  }
  report(u) {
    return { id: u.id, email: u.email, profile: u.profile ?? {}, protected: !!u.protected, suspended: u.suspended ? 1 : 0, loginMethod: u.loginMethod ?? null }
  }
  async findUsers(emails) {
    await this.wait('findUsers')
    return emails.map((e) => this.users.get(e.toLowerCase())).filter(Boolean).map((u) => this.report(u))
  }
  async createUser(user) {
    this.created.push(user)
    const id = await super.createUser(user)
    this.byId(id).loginMethod = user.loginMethod
    return id
  }
  async updateProfile(id, changes) {
    await this.wait('updateProfile')
    const u = this.byId(id)
    const { custom = {}, ...builtIn } = changes
    const kept = { ...u.profile?.custom, ...custom }
    for (const [name, value] of Object.entries(kept)) if (value === '') delete kept[name]
    u.profile = { ...u.profile, ...builtIn, custom: kept }
  }
  async scopeUsers(after, limit) {
    await this.wait('scopeUsers')
    this.pages.push([after, limit])
    const all = [...this.users.values()]
    const start = after === null ? 0 : Number(after)
    const end = Math.min(start + 2, all.length)
    return { users: all.slice(start, end).map((u) => this.report(u)), next: end < all.length ? String(end) : null }
  }
  async suspendUser(id) {
    await this.wait('suspendUser')
    this.byId(id).suspended = true
  }
  async reactivateUser(id) {
    await this.wait('reactivateUser')
    this.byId(id).suspended = false
  }
  async setLoginMethod(id, method) {
    await this.wait('setLoginMethod')
    this.byId(id).loginMethod = method
  }
  writes() {
    return this.calls.filter((c) => WRITES.includes(c))
  }
}

const person = (id, name, extra = {}) => ({ id, email: `${name}@example.com`, profile: { firstName: name, lastName: 'X' }, ...extra })
const everyone = () => [
  person(1, 'ana'),
  person(2, 'bo'),
  person(3, 'cy'),
  person(4, 'di', { protected: true }),
  person(5, 'ed', { suspended: true }),
  person(6, 'fy'),
]
// Ana; Cy written differently; a row whose email is wrong. Bo and Fy are missing.
const LISTED = 'firstname,lastname,email\nana,X,ana@example.com\ncy,X,CY@Example.com\nzoe,X,not-an-email\n'

test('the MemoryStore double forwards every optional store method', () => {
  assert.deepEqual(unforwardedStoreMethods(), [])
})

test('suspendMissingUsers: the users in the host scope but not in the file are suspended through it', async () => {
  const store = new HostStore({ users: everyone() })
  // 2 of the 4 users who could be suspended (Di is protected, Ed suspended already).
  const settings = { suspendMissingUsers: true, missingUsersThreshold: 50 }
  const plan = await lms.plan(lms.parse(LISTED), settings, store)
  // Three pages of two, each asked for with the cursor the previous one gave.
  assert.deepEqual(store.pages.map(([after]) => after), [null, '2', '4'])
  assert.ok(store.pages.every(([, limit]) => Number.isInteger(limit) && limit > 0))
  assert.deepEqual(store.writes(), [], 'planning writes nothing')

  const missing = plan.rows.filter((r) => r.operations?.some((o) => o.op === 'suspend_user'))
  assert.deepEqual(missing.map((r) => [r.line, r.email, r.userId, r.action]), [
    [5, 'bo@example.com', '2', 'update'],
    [6, 'fy@example.com', '6', 'update'],
  ])
  assert.deepEqual(missing.map((r) => r.issues.map((i) => i.code)), [['missing_from_file'], ['missing_from_file']])
  assert.equal(plan.summary.suspensions, 2)

  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(store.writes(), ['suspendUser', 'suspendUser'])
  const suspended = [...store.users.values()].filter((u) => u.suspended).map((u) => u.email)
  assert.deepEqual(suspended.sort(), ['bo@example.com', 'ed@example.com', 'fy@example.com'])
  assert.deepEqual(results.rows.filter((r) => r.line > 4).map((r) => [r.status, r.done]), [
    ['updated', [{ op: 'suspend_user' }]],
    ['updated', [{ op: 'suspend_user' }]],
  ])

  // Undoing the upload lets them in again, through the host's reactivateUser.
  const undo = await lms.planUndo(results, store)
  await undo.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(store.writes().slice(2), ['reactivateUser', 'reactivateUser'])
  assert.equal(store.users.get('bo@example.com').suspended, false)
  assert.equal(store.users.get('fy@example.com').suspended, false)
  assert.equal(store.users.get('ed@example.com').suspended, true, 'Ed was suspended before: undo leaves him')
})

test('suspendMissingUsers over the threshold is refused when planning (missing_users_threshold)', async () => {
  const store = new HostStore({ users: everyone() })
  const error = await lms.plan(lms.parse(LISTED), { suspendMissingUsers: true }, store).catch((e) => e)
  assert.ok(error instanceof lms.SettingsError, `a SettingsError, not ${error}`)
  assert.equal(error.code, 'missing_users_threshold')
  assert.match(error.message, /2 of the 4/, 'the protected and the suspended users do not count')
  assert.deepEqual(store.writes(), [])
})

test('a host without scopeUsers (or suspendUser) gets host_method_missing when planning, before any write', async () => {
  for (const [without, name] of [['scopeUsers', 'scope_users'], ['suspendUser', 'suspend_user']]) {
    const store = new HostStore({ users: everyone() }, { without: [without] })
    const error = await lms.plan(lms.parse(LISTED), { suspendMissingUsers: true, missingUsersThreshold: 100 }, store).catch((e) => e)
    assert.ok(error instanceof lms.StoreError, `${without}: a StoreError, not ${error}`)
    assert.equal(error.code, 'host_method_missing')
    assert.equal(error.kind, 'store')
    assert.match(error.message, new RegExp(name))
    assert.deepEqual(store.pages, [], `${without}: no page was asked for`)
    assert.deepEqual(store.writes(), [])
  }
  // Without the setting, the store needs neither.
  const store = new HostStore({ users: everyone() }, { without: ['scopeUsers', 'suspendUser'] })
  const plan = await lms.plan(lms.parse(LISTED), {}, store)
  assert.equal(plan.summary.suspensions, 0)
})

test('SSO: new users get no password (createUser: passwordHash null, loginMethod saml) and no password by email', async () => {
  const store = new HostStore({ users: [person(9, 'di', { loginMethod: 'password' })] })
  const csv = 'firstname,lastname,email,auth\nAna,Lopez,ana@example.com,\nBo,Chan,bo@example.com,password\nCy,Diaz,cy@example.com,SAML\ndi,X,di@example.com,saml\n'
  const upload = lms.parse(csv, { loginMethods: ['saml'] })
  assert.deepEqual(upload.rows.map((r) => r.values.auth), ['', 'password', 'SAML', 'saml'])
  const settings = { defaultLoginMethod: 'saml', updateExistingProfiles: true, siteUrl: 'https://lms.example.com/' }
  const plan = await lms.plan(upload, settings, store)
  const creates = plan.rows.map((r) => r.operations?.find((o) => o.op === 'create_user'))
  assert.deepEqual(creates.map((o) => o?.loginMethod), ['saml', undefined, 'saml', undefined])
  assert.deepEqual(plan.rows[3].operations, [{ op: 'set_login_method', method: 'saml' }])
  assert.equal(plan.summary.loginMethodChanges, 1)
  assert.equal(plan.summary.passwords, 1, 'only Bo gets a password')

  const mailer = new lms.RecordingMailer()
  const results = await plan.execute(store, mailer, { hashParams: FAST_HASH })
  assert.deepEqual(results.rows.map((r) => r.status), ['created', 'created', 'created', 'updated'])
  const received = Object.fromEntries(store.created.map((u) => [u.email, u]))
  for (const email of ['ana@example.com', 'cy@example.com']) {
    assert.equal(received[email].passwordHash, null, email)
    assert.equal(received[email].loginMethod, 'saml', email)
  }
  assert.match(received['bo@example.com'].passwordHash, /^\$argon2id\$/)
  assert.equal(received['bo@example.com'].loginMethod, 'password')
  assert.deepEqual(store.writes().filter((c) => c === 'setLoginMethod' || c === 'setPassword'), ['setLoginMethod'])
  assert.equal(store.users.get('di@example.com').loginMethod, 'saml')
  assert.deepEqual(results.rows[3].done, [{ op: 'set_login_method', method: 'saml', before: 'password' }])

  const welcome = Object.fromEntries(mailer.messages.map((m) => [m.to, m]))
  for (const email of ['ana@example.com', 'cy@example.com']) {
    const message = welcome[email]
    assert.equal(message.kind, 'welcome')
    assert.equal('password' in message.fields, false, `${email}: no password field`)
    assert.match(message.text, /https:\/\/lms\.example\.com\//)
  }
  const bo = welcome['bo@example.com']
  assert.equal(typeof bo.fields.password, 'string')
  assert.ok(bo.text.includes(bo.fields.password))
  assert.ok(lms.verifyPassword(received['bo@example.com'].passwordHash, bo.fields.password))
  assert.equal(welcome['di@example.com'], undefined, 'a method change sends nothing')
})

test('SSO: a host without setLoginMethod is refused when the plan needs it (host_method_missing)', async () => {
  const store = new HostStore({ users: [person(9, 'di')] }, { without: ['setLoginMethod'] })
  const upload = lms.parse('firstname,lastname,email,auth\ndi,X,di@example.com,saml\n', { loginMethods: ['saml'] })
  const error = await lms.plan(upload, { updateExistingProfiles: true }, store).catch((e) => e)
  assert.ok(error instanceof lms.StoreError, `a StoreError, not ${error}`)
  assert.equal(error.code, 'host_method_missing')
  assert.match(error.message, /set_login_method/)
})

const FIELDS = [
  { name: 'start_date', kind: 'date', aliases: ['Start'] },
  { name: 'department', maxLength: 20 },
  { name: 'grade', kind: 'one_of', values: ['A', 'B'] },
]

test('custom fields: the declared names in createUser, updateProfile, findUsers and plan rows; a second plan sees no change', async () => {
  const store = new HostStore({
    users: [person(9, 'di', { profile: { firstName: 'di', lastName: 'X', custom: { start_date: '2026-01-02', department: 'Sales', grade: 'B' } } })],
  })
  const csv = 'firstname,lastname,email,Start,Department,grade\nAna,Lopez,ana@example.com,2026-03-01,Support,a\ndi,X,di@example.com,2026-01-02,HR,#clear\n'
  const upload = lms.parse(csv, { fields: FIELDS })
  assert.deepEqual(upload.report().header.map((h) => h.field ?? h.column), ['firstname', 'lastname', 'emailaddress', 'start_date', 'department', 'grade'])
  const settings = { updateExistingProfiles: true }
  const plan = await lms.plan(upload, settings, store)
  // Every key is camelCase but the host's field names, which stay as declared.
  assert.deepEqual(plan.rows[0].operations[0].profile.custom, { start_date: '2026-03-01', department: 'Support', grade: 'A' })
  assert.deepEqual(plan.toJSON().rows[0].operations[0].profile.custom, { start_date: '2026-03-01', department: 'Support', grade: 'A' })
  // Di's start date is the stored one (read back from findUsers): only the others change.
  assert.deepEqual(plan.rows[1].operations, [{ op: 'update_profile', changes: { custom: { department: 'HR', grade: '' } } }])

  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(store.created[0].profile, { firstName: 'Ana', lastName: 'Lopez', custom: { start_date: '2026-03-01', department: 'Support', grade: 'A' } })
  assert.deepEqual(store.users.get('di@example.com').profile.custom, { start_date: '2026-01-02', department: 'HR' })
  assert.deepEqual(results.rows[1].done, [
    { op: 'update_profile', changes: { custom: { department: 'HR', grade: '' } }, before: { custom: { department: 'Sales', grade: 'B' } } },
  ])

  // What was written comes back from findUsers under the same keys: nothing to do again.
  const again = await lms.plan(lms.parse(csv.replace('#clear', ''), { fields: FIELDS }), settings, store)
  assert.deepEqual(again.rows.map((r) => r.action), ['unchanged', 'unchanged'])
})

test('custom fields: a host may give numbers back; they compare as their text', async () => {
  const store = new HostStore({ users: [person(9, 'di', { profile: { firstName: 'di', lastName: 'X', custom: { start_date: '2026-01-02', hours: 37.5 } } })] })
  const fields = [FIELDS[0], { name: 'hours', kind: 'number' }]
  const plan = await lms.plan(lms.parse('firstname,lastname,email,start_date,hours\ndi,X,di@example.com,2026-01-02,37.5\n', { fields }), { updateExistingProfiles: true }, store)
  assert.equal(plan.rows[0].action, 'unchanged')
})

// camelCase and snake_case are not inverses for a name like `level_2` (`level2` comes back as
// `level2`): the names inside `custom` are never renamed, so it round-trips.
test('custom fields: a field named level_2 round-trips through findUsers', async () => {
  const store = new HostStore({ users: [] })
  const fields = [{ name: 'level_2' }]
  const csv = 'firstname,lastname,email,level_2\nAna,Lopez,ana@example.com,x\n'
  await (await lms.plan(lms.parse(csv, { fields }), {}, store)).execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.deepEqual(store.created[0].profile.custom, { level_2: 'x' })
  const again = await lms.plan(lms.parse(csv, { fields }), { updateExistingProfiles: true }, store)
  assert.equal(again.rows[0].action, 'unchanged')
})
