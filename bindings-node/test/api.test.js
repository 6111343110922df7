'use strict'
// The public API: inputs, errors with codes and classes, plans as JSON, progress, cancel.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const lms = require('..')
const { FAST_HASH } = require('./async-store')

const CSV = 'First Name,Last Name,E-mail Address\nAna,Lopez,ana@example.com\nBo,,bo@example\n'

test('parse takes a Buffer, a Uint8Array, text, a file URL or { path }', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lms-'))
  t.after(() => fs.rmSync(dir, { recursive: true }))
  const file = path.join(dir, 'users.csv')
  fs.writeFileSync(file, CSV)
  const inputs = [Buffer.from(CSV), new TextEncoder().encode(CSV), CSV, pathToFileURL(file), { path: file }]
  for (const input of inputs) {
    const upload = lms.parse(input)
    assert.equal(upload.length, 2)
    assert.equal(upload.validCount, 1)
  }
  assert.throws(() => lms.parse(42), TypeError)
})

test('an Upload has rows, issues and a report, rows converted only on demand', () => {
  const upload = lms.parse(CSV)
  assert.ok(upload instanceof lms.Upload)
  assert.equal(upload.hasErrors, true)
  assert.deepEqual(upload.issues.map((i) => [i.line, i.code, i.column, i.severity]), [
    [3, 'missing_value', 'lastname', 'error'],
    [3, 'invalid_email', 'emailaddress', 'error'],
  ])
  assert.deepEqual(upload.row(0).values, { firstname: 'Ana', lastname: 'Lopez', emailaddress: 'ana@example.com' })
  assert.equal(upload.row(5), undefined)
  assert.deepEqual([...upload].map((r) => r.line), [2, 3])
  assert.deepEqual(upload.rows.map((r) => r.valid), [true, false])
  const report = upload.report()
  assert.equal(report.delimiter, ',')
  assert.equal(report.validRows, 1)
  assert.equal(report.header[2].column, 'emailaddress')
})

// 8,000 rows (some 300 KiB: read in chunks on 2 threads), a bad address near the middle and
// a duplicate, in another case, of a row far before it.
function bigCsv() {
  const lines = ['firstname,lastname,email']
  for (let i = 0; i < 8000; i++) lines.push(`First${i},Last${i},user${i}@example.com`)
  lines[4000] = 'Bad,Row,not-an-address'
  lines[7000] = 'Dup,Other,USER1@example.com'
  return Buffer.from(lines.join('\n') + '\n')
}

test('parse on one or two threads gives the same upload', () => {
  const data = bigCsv()
  const one = lms.parse(data, { threads: 1 })
  const two = lms.parse(data, { threads: 2 })
  assert.deepEqual(one.report(), two.report())
  assert.deepEqual(one.rows.map((r) => JSON.stringify(r)), two.rows.map((r) => JSON.stringify(r)))
  const codes = one.issues.map((i) => `${i.line} ${i.code}`)
  assert.ok(codes.includes('4001 invalid_email') && codes.includes('7001 duplicate_email'), codes.join())
  assert.equal(one.report().validRows, 7998)
  assert.throws(() => lms.parse(data, { threads: -1 }), (e) => e.code === 'invalid_option')
})

test('the bench helper times the core alone on one or two threads', () => {
  const native = require('../index.js')
  for (const threads of [1, 2]) {
    const ms = native.benchParseRust(bigCsv(), 2, threads)
    assert.ok(ms >= 0 && ms < 60_000, String(ms))
  }
  assert.throws(() => native.benchParseRust(Buffer.alloc(0), 1, 1))
})

test('file errors are FileErrors with code, kind, line and column', () => {
  const cases = [
    ['', 'empty_file'],
    ['firstname,lastname\nA,B\n', 'missing_required_column'],
    ['firstname,lastname,email\n', 'no_data_rows'],
  ]
  for (const [text, code] of cases) {
    assert.throws(() => lms.parse(text), (e) => {
      assert.ok(e instanceof lms.FileError && e instanceof lms.BulkUploadError && e instanceof Error)
      assert.equal(e.name, 'FileError')
      assert.equal(e.code, code)
      assert.equal(e.kind, 'file')
      return true
    })
  }
  const tooMany = 'firstname,lastname,email\nA,B,a@b.co\nC,D,c@d.co\n'
  assert.throws(() => lms.parse(tooMany, { maxRows: 1 }), { code: 'too_many_rows' })
  assert.throws(() => lms.parse('firstname,lastname,email\n"A,B,a@b.co\n'), (e) => e.code === 'malformed_csv' && e.line === 2)
  // Options are decoded by the core: an unknown one is refused with its code.
  assert.throws(() => lms.parse(CSV, { maxRowz: 1 }), (e) => e instanceof lms.SettingsError && e.code === 'invalid_option' && /max_rowz/.test(e.message))
  assert.throws(() => lms.parse(CSV, { delimiter: ',,' }), { code: 'invalid_option' })
})

test('parse options are camelCase', () => {
  const upload = lms.parse('firstname|lastname|email|addgroup\nA|B|a@b.co|X/Y\n', { delimiter: '|', groupSeparator: '/' })
  assert.deepEqual(upload.row(0).addGroups, ['X', 'Y'])
})

test('settings are validated when built, with codes', () => {
  const cases = [
    [{ generatePasswords: false }, 'default_password_required'],
    [{ generatePasswords: false, defaultPassword: 'password1' }, 'weak_default_password'],
    [{ defaultPassword: 'Correct-Horse-9' }, 'default_password_with_generated'],
    [{ sendNotificationEmail: false }, 'notification_required_for_generated_passwords'],
    [{ siteUrl: 'javascript:alert(1)' }, 'invalid_setting'],
    [{ generatePassword: true }, 'invalid_setting'],
  ]
  for (const [options, code] of cases) {
    assert.throws(() => new lms.Settings(options), (e) => e instanceof lms.SettingsError && e.code === code && e.kind === 'settings')
  }
  const settings = new lms.Settings({ generatePasswords: false, defaultPassword: 'Welcome-2026-LMS', passwordPolicy: { minLength: 12 } })
  assert.equal(settings.toJSON().hasDefaultPassword, true)
  assert.equal('defaultPassword' in settings.toJSON(), false)
  assert.equal(settings.toJSON().passwordPolicy.minLength, 12)
  assert.ok(!JSON.stringify(settings).includes('Welcome'))
})

test('unknown groups and content in the settings reject plan() with a SettingsError', async () => {
  const upload = lms.parse(CSV)
  await assert.rejects(lms.plan(upload, { groups: ['Nope'] }, new lms.MemoryStore()), (e) => e instanceof lms.SettingsError && e.code === 'unknown_group')
  await assert.rejects(lms.plan(upload, { enrolments: [{ kind: 'course', id: 'zz' }] }, new lms.MemoryStore()), { code: 'unknown_content' })
})

test('issueCodes() lists every code with its severity and meaning', () => {
  const codes = lms.issueCodes()
  const names = codes.map((c) => c.code)
  for (const code of ['empty_file', 'duplicate_email', 'protected_user', 'fingerprint_mismatch', 'store_failed', 'weak_default_password']) {
    assert.ok(names.includes(code), code)
  }
  assert.ok(codes.every((c) => ['error', 'warning'].includes(c.severity) && c.meaning.length > 10))
  assert.equal(new Set(names).size, names.length)
})

async function samplePlan(settings = {}) {
  const store = new lms.MemoryStore({ groups: [{ id: 'g1', name: 'Sales' }] })
  const plan = await lms.plan(lms.parse(CSV), { groups: ['Sales'], ...settings }, store)
  return { plan, store }
}

test('a plan round-trips through JSON, deterministically', async () => {
  const { plan } = await samplePlan()
  const { plan: again } = await samplePlan()
  assert.equal(plan.toJSONString(), again.toJSONString())
  assert.match(plan.fingerprint, /^sha256:[0-9a-f]{64}$/)
  const text = JSON.stringify(plan)
  assert.equal(text, plan.toJSONString(), 'JSON.stringify(plan) is the plan JSON')
  const back = lms.Plan.fromJSON(text)
  assert.equal(back.fingerprint, plan.fingerprint)
  assert.deepEqual(back.summary, plan.summary)
  assert.equal(lms.Plan.fromJSON(plan.toJSON()).fingerprint, plan.fingerprint)
  assert.equal(plan.summary.groupAdditions, 1)
  assert.deepEqual(plan.rows.map((r) => r.action), ['create', 'rejected'])
  assert.equal(plan.settings.passwordSource, 'generated')
})

test('a tampered or foreign plan is refused with a PlanError', async () => {
  const { plan } = await samplePlan()
  const tampered = plan.toJSON()
  tampered.rows[0].email = 'mallory@evil.example'
  assert.throws(() => lms.Plan.fromJSON(tampered), (e) => e instanceof lms.PlanError && e.code === 'fingerprint_mismatch')
  assert.throws(() => lms.Plan.fromJSON({ ...plan.toJSON(), format_version: 99 }), { code: 'unsupported_plan_version' })
  assert.throws(() => lms.Plan.fromJSON('{not json'), { code: 'invalid_plan' })
})

test('a plan read back needs its default password again', async () => {
  const { plan, store } = await samplePlan({ generatePasswords: false, defaultPassword: 'Welcome-2026-LMS' })
  assert.ok(!plan.toJSONString().includes('Welcome-2026-LMS'))
  const back = lms.Plan.fromJSON(plan.toJSONString())
  await assert.rejects(back.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH }), (e) => e instanceof lms.PlanError && e.code === 'default_password_required')
  const results = await back.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH, defaultPassword: 'Welcome-2026-LMS' })
  assert.equal(results.summary.created, 1)
  assert.ok(store.verifyPassword('ana@example.com', 'Welcome-2026-LMS'))
  const viaFromJson = lms.Plan.fromJSON(plan.toJSONString(), { defaultPassword: 'Welcome-2026-LMS' })
  assert.equal(viaFromJson.fingerprint, plan.fingerprint)
})

test('execute: results, progress, CSV and JSON', async () => {
  const { plan, store } = await samplePlan()
  const mailer = new lms.RecordingMailer()
  const seen = []
  const results = await plan.execute(store, mailer, { hashParams: FAST_HASH, onProgress: (p) => seen.push(p) })
  assert.ok(results instanceof lms.Results)
  assert.equal(results.fingerprint, plan.fingerprint)
  assert.deepEqual(seen.at(-1), { done: 2, total: 2, failed: 0 })
  assert.deepEqual(results.summary, { rows: 2, created: 1, updated: 0, unchanged: 0, rejected: 1, failed: 0, emailsSent: 1, resumed: 0, suspended: 0, deleted: 0, reactivated: 0, loginMethodsChanged: 0 })
  assert.deepEqual(results.rows[0].done, [{ op: 'create_user' }, { op: 'add_to_group', group: 'Sales' }, { op: 'send_email', kind: 'welcome' }])
  assert.equal(results.rows[0].userId, 'u1')
  const [message] = mailer.messages
  assert.equal(message.kind, 'welcome')
  assert.ok(store.verifyPassword('ana@example.com', message.fields.password))
  assert.match(results.toCSV(), /^"line","email","status","user_id","done","error"\r\n"2","ana@example.com","created","u1","created; added to group Sales; emailed welcome",""\r\n/)
  assert.equal(JSON.stringify(results), results.toJSONString())
  assert.equal(results.toJSON().summary.emails_sent, 1)
  assert.equal(store.state().users[0].hasPassword, true)
  assert.equal(store.calls.createUser, 1)
})

test('results CSV neutralises spreadsheet formulas', async () => {
  const store = new lms.MemoryStore()
  const plan = await lms.plan(lms.parse('firstname,lastname,email\n=cmd,X,"=1+1@example.com"\n'), {}, store)
  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.ok(!/(^|,)"?=/m.test(results.toCSV()))
})

test('an AbortSignal cancels between rows', async () => {
  const lines = ['firstname,lastname,email']
  for (let i = 0; i < 400; i++) lines.push(`A${i},B${i},u${i}@example.com`)
  const store = new lms.MemoryStore()
  const plan = await lms.plan(lms.parse(lines.join('\n')), {}, store)
  const controller = new AbortController()
  controller.abort()
  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH, signal: controller.signal })
  assert.equal(results.cancelled, true)
  assert.equal(results.summary.failed, 400)
  assert.equal(results.rows[0].error.code, 'cancelled')
  // Executing again finishes the rows.
  const again = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH, batchSize: 50 })
  assert.equal(again.summary.created, 400)
})

test('bad execute options are refused', async () => {
  const { plan, store } = await samplePlan()
  await assert.rejects(plan.execute(store, new lms.RecordingMailer(), { hashparams: {} }), (e) => e instanceof lms.SettingsError && e.code === 'invalid_option' && /"hashparams"/.test(e.message))
  await assert.rejects(plan.execute(store, new lms.RecordingMailer(), { batchSize: 0 }), { code: 'invalid_option' })
  await assert.rejects(plan.execute(store, new lms.RecordingMailer(), { hashParams: { memoryKib: 1 } }), (e) => e instanceof lms.SettingsError && e.code === 'weak_hash_params')
  await assert.rejects(lms.execute({}, store, new lms.RecordingMailer()), TypeError)
})

test('a MemoryStore can be filled by hand and read back', async () => {
  const store = new lms.MemoryStore()
    .addGroup('g1', 'Sales')
    .addContent({ kind: 'course', id: 'c1' })
    .addUser({ id: 'e1', email: 'Old@Example.com', profile: { firstName: 'Old', lastName: 'Timer' }, groups: ['Sales'], protected: true })
  const state = store.state()
  assert.deepEqual(state.users[0], {
    id: 'e1', email: 'Old@Example.com', firstName: 'Old', lastName: 'Timer', groups: ['Sales'], enrolments: [], protected: true, suspended: false, hasPassword: false, forcePasswordReset: false,
  })
  assert.throws(() => store.addContent({ kind: 'book', id: 'x' }), /unknown variant `book`/)
  const plan = await lms.plan(lms.parse('firstname,lastname,email\nO,T,old@example.com\n'), { updateExistingProfiles: true }, store)
  assert.equal(plan.rows[0].issues[0].code, 'protected_user')
  const mailer = new lms.RecordingMailer()
  assert.deepEqual(mailer.messages, [])
})

test('a throwing onProgress does not stop the execution', async () => {
  const { plan, store } = await samplePlan()
  const warnings = []
  const onWarning = (w) => warnings.push(w.message)
  process.on('warning', onWarning)
  try {
    const results = await plan.execute(store, new lms.RecordingMailer(), {
      hashParams: FAST_HASH,
      onProgress: () => {
        throw new Error('boom')
      },
    })
    assert.equal(results.summary.created, 1)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(warnings, ['lms-bulk-upload: onProgress threw: boom'])
  } finally {
    process.off('warning', onWarning)
  }
})

test('a MemoryStore loaded with users never gives their ids to new users', async () => {
  const store = new lms.MemoryStore({ users: [{ id: 'u1', email: 'old@example.com', firstName: 'Old', lastName: 'Timer' }] })
  const plan = await lms.plan(lms.parse('firstname,lastname,email\nNew,Comer,new@example.com\n'), {}, store)
  const results = await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH })
  assert.equal(results.summary.created, 1)
  const ids = store.state().users.map((u) => u.id)
  assert.equal(new Set(ids).size, 2, `ids ${ids}`)
  assert.notEqual(results.rows[0].userId, 'u1')
})

test('verifyPassword checks a password against a stored argon2id hash', async () => {
  const lms = require('..')
  const store = new lms.MemoryStore()
  const upload = lms.parse('First Name,Last Name,Email\nA,B,a@x.com\n')
  const thePlan = await lms.plan(upload, {}, store)
  const mailer = new lms.RecordingMailer()
  await thePlan.execute(store, mailer, { hashParams: { memoryKib: 64, iterations: 1, parallelism: 1, insecureForTests: true } })
  const password = mailer.messages.find((m) => m.fields.password).fields.password
  const hash = store.state().users[0]
  assert.ok(store.verifyPassword('a@x.com', password))
  assert.equal(hash.passwordHash, undefined, 'the state never holds the hash')
  const phc = lms.verifyPassword('$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA', password)
  assert.equal(phc, false, 'a wrong hash does not verify')
  assert.equal(lms.verifyPassword('not a phc string', password), false)
})
