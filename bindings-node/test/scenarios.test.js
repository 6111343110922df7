'use strict'
// Every scenario of tests/scenarios/, run through the Node binding.
// Formats: tests/scenarios/README.md (parse part) and docs/scenario-format.md (plan and
// execute part). Scenario files are snake_case; the binding's objects are camelCase, so the
// settings and store given are converted to camelCase (the Node spelling) and the values
// read back are converted to snake_case before they are compared.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const lms = require('..')

const ROOT = path.join(__dirname, '..', '..', 'tests', 'scenarios')
const FAST_HASH = { memoryKib: 64, iterations: 1, parallelism: 1, insecureForTests: true }

const camelKey = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())
const snakeKey = (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
function renameKeys(value, rename) {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, rename))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), renameKeys(v, rename)]))
  }
  return value
}
const camel = (v) => renameKeys(v, camelKey)
const snake = (v) => renameKeys(v, snakeKey)

function only(object, allowed, where) {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw new Error(`${where}: unknown key ${JSON.stringify(key)}`)
  }
}

/** The comparison rule of the corpus: expected objects are subsets; lists compare element-wise. */
function subset(actual, expected, where) {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected a list, got ${JSON.stringify(actual)}`)
    assert.equal(actual.length, expected.length, `${where}: length (actual ${JSON.stringify(actual)})`)
    expected.forEach((e, i) => subset(actual[i], e, `${where}[${i}]`))
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object', `${where}: expected an object, got ${JSON.stringify(actual)}`)
    for (const [key, e] of Object.entries(expected)) subset(actual[key], e, `${where}.${key}`)
  } else if (expected === null) {
    assert.ok(actual === null || actual === undefined, `${where}: expected null, got ${JSON.stringify(actual)}`)
  } else {
    assert.deepEqual(actual, expected, `${where}`)
  }
}

function issues(actual, expected, where) {
  assert.ok(Array.isArray(expected), `${where}: must be a list`)
  const codes = JSON.stringify(actual.map((i) => `${i.line}:${i.code}`))
  assert.equal(actual.length, expected.length, `${where}: number of issues (actual ${codes})`)
  expected.forEach((e, i) => {
    const a = actual[i]
    const at = `${where}[${i}]`
    if (typeof e === 'string') return assert.equal(a.code, e, at)
    only(e, ['code', 'severity', 'line', 'column', 'message', 'message_contains'], at)
    const { message_contains: contains, ...rest } = e
    subset(a, rest, at)
    if (contains !== undefined) assert.ok(a.message.includes(contains), `${at}: message ${JSON.stringify(a.message)} lacks ${JSON.stringify(contains)}`)
  })
}

function checkParse(upload, expect, where) {
  if (expect.issues !== undefined) issues(upload.issues, expect.issues, `${where} issues`)
  if (expect.rows !== undefined) assert.equal(upload.length, expect.rows, `${where} rows`)
  if (expect.valid_rows !== undefined) assert.equal(upload.validRows, expect.valid_rows, `${where} valid_rows`)
}

function checkError(error, expected, Class, where) {
  assert.ok(error instanceof Class, `${where}: expected a ${Class.name}, got ${error && error.stack}`)
  assert.ok(error instanceof lms.BulkUploadError, `${where}: not a BulkUploadError`)
  only(expected, ['code', 'line', 'column', 'kind', 'message_contains'], where)
  const { message_contains: contains, ...rest } = expected
  subset({ code: error.code, line: error.line, column: error.column, kind: error.kind }, rest, where)
  if (contains !== undefined) assert.ok(error.message.includes(contains), `${where}: message ${JSON.stringify(error.message)}`)
}

function planRowView(row) {
  return {
    line: row.line,
    email: row.email,
    first_name: row.firstName,
    last_name: row.lastName,
    action: row.action,
    user_id: row.userId ?? null,
    operations: (row.operations ?? []).map((o) => o.op),
    operation_details: snake(row.operations ?? []),
    noops: (row.noops ?? []).map((n) => n.noop),
    issues: row.issues ?? [],
  }
}

const ROW_KEYS = ['line', 'email', 'first_name', 'last_name', 'action', 'user_id', 'operations', 'operation_details', 'noops', 'issues']
const SUMMARY_KEYS = ['rows', 'rejected', 'create', 'update', 'unchanged', 'profile_updates', 'passwords', 'group_additions', 'group_removals', 'enrolments', 'emails', 'warnings']
const RESULT_SUMMARY_KEYS = ['rows', 'created', 'updated', 'unchanged', 'rejected', 'failed', 'emails_sent', 'resumed']

function checkPlan(plan, expected, where) {
  only(expected, ['summary', 'file_issues', 'rows'], where)
  if (expected.summary) {
    only(expected.summary, SUMMARY_KEYS, `${where}.summary`)
    subset(snake(plan.summary), expected.summary, `${where}.summary`)
  }
  if (expected.file_issues) issues(plan.fileIssues, expected.file_issues, `${where}.file_issues`)
  if (expected.rows) {
    const rows = plan.rows
    assert.equal(rows.length, expected.rows.length, `${where}.rows: length`)
    expected.rows.forEach((e, i) => {
      const at = `${where}.rows[${i}]`
      only(e, ROW_KEYS, at)
      const view = planRowView(rows[i])
      const { issues: expectedIssues, ...rest } = e
      subset(view, rest, at)
      if (expectedIssues !== undefined) issues(view.issues, expectedIssues, `${at}.issues`)
    })
  }
}

function checkStore(state, expected, where) {
  only(expected, ['groups', 'content', 'users'], where)
  const actual = snake(state)
  for (const user of actual.users) delete user.id
  for (const user of expected.users ?? []) {
    if ('id' in user) throw new Error(`${where}: a user's id is ignored; do not give it`)
  }
  subset(actual, expected, where)
}

function checkEmails(messages, expected, where) {
  assert.equal(messages.length, expected.length, `${where}: number of emails (${messages.map((m) => `${m.kind} ${m.to}`)})`)
  expected.forEach((e, i) => {
    const m = messages[i]
    const at = `${where}[${i}]`
    only(e, ['kind', 'to', 'subject', 'has_password', 'counts', 'text_contains'], at)
    for (const key of ['kind', 'to', 'subject']) if (key in e) assert.equal(m[key], e[key], `${at}.${key}`)
    if (e.has_password === true) {
      assert.ok(m.fields.password, `${at}: no password field`)
      assert.ok(m.text.includes(m.fields.password), `${at}: the text lacks the password`)
    } else if (e.has_password === false) {
      assert.equal(m.fields.password, undefined, `${at}: unexpected password field`)
    }
    if (e.counts) subset(m.fields.counts, e.counts, `${at}.counts`)
    for (const piece of e.text_contains ?? []) assert.ok(m.text.includes(piece), `${at}: text lacks ${JSON.stringify(piece)}`)
  })
}

function checkResults(results, expected, where) {
  only(expected, ['summary', 'rows', 'cancelled'], where)
  if (expected.summary) {
    only(expected.summary, RESULT_SUMMARY_KEYS, `${where}.summary`)
    subset(snake(results.summary), expected.summary, `${where}.summary`)
  }
  if (expected.rows) subset(results.toJSON().rows, expected.rows, `${where}.rows`)
  if ('cancelled' in expected) assert.equal(results.cancelled, expected.cancelled, `${where}.cancelled`)
}

/** What happens to the store between plan and execute (docs/scenario-format.md). */
function applyStoreChanges(before, changes, where) {
  const state = JSON.parse(JSON.stringify(before))
  assert.ok(Array.isArray(changes), `${where}: store_changes must be a list`)
  const sameEmail = (user, email) => String(user.email).toLowerCase() === email.toLowerCase()
  const remove = (key, keep, here) => {
    const kept = (state[key] ?? []).filter(keep)
    assert.notEqual(kept.length, (state[key] ?? []).length, `${here} matches nothing`)
    state[key] = kept
  }
  changes.forEach((change, i) => {
    const here = `${where} store_changes[${i}]`
    const keys = Object.keys(change ?? {})
    assert.equal(keys.length, 1, `${here} must be an object with one key`)
    const [op] = keys
    const arg = change[op]
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)
    if (op === 'remove_user') remove('users', (u) => !sameEmail(u, arg), here)
    else if (op === 'add_user') (state.users ??= []).push({ ...arg })
    else if (op === 'update_user') {
      const user = (state.users ?? []).find((u) => sameEmail(u, arg.email))
      assert.ok(user, `${here}: no user ${arg.email}`)
      Object.assign(user, arg)
    } else if (op === 'remove_group') remove('groups', (g) => g.name !== arg, here)
    else if (op === 'add_group') (state.groups ??= []).push({ ...arg })
    else if (op === 'remove_content') remove('content', (c) => !same(c, arg), here)
    else assert.fail(`${here}: unknown change ${op}`)
  })
  return state
}

async function runScenario(name) {
  const dir = path.join(ROOT, name)
  const scenario = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'))
  const bytes = fs.readFileSync(path.join(dir, 'upload.csv'))
  const { expect } = scenario
  assert.ok(expect && typeof expect === 'object', `${name}: no expect`)
  assert.equal(typeof scenario.description, 'string', `${name}: no description`)
  const hasSettings = 'settings' in scenario
  only(scenario, ['description', 'parse_options', 'settings', 'store', 'store_changes', 'expect'], name)
  const parseKeys = ['parse_error', 'issues', 'rows', 'valid_rows']
  if (hasSettings) {
    only(expect, [...parseKeys, 'settings_error', 'plan', 'store', 'emails', 'results'], `${name} expect`)
  } else {
    only(expect, parseKeys, `${name} expect`)
    assert.ok('parse_error' in expect || 'issues' in expect, `${name}: a parse-only scenario gives parse_error or issues`)
  }
  if (scenario.parse_options) {
    only(scenario.parse_options, ['delimiter', 'group_separator', 'max_file_bytes', 'max_rows', 'max_field_bytes', 'max_columns', 'max_value_chars'], `${name} parse_options`)
  }

  let upload
  try {
    upload = lms.parse(bytes, camel(scenario.parse_options))
  } catch (error) {
    if (!expect.parse_error) throw error
    return checkError(error, expect.parse_error, lms.FileError, `${name} parse_error`)
  }
  assert.ok(!expect.parse_error, `${name}: parse succeeded but parse_error was expected`)
  checkParse(upload, expect, name)
  if (!hasSettings) return

  let store = new lms.MemoryStore(camel(scenario.store ?? {}))
  let plan
  try {
    const settings = new lms.Settings(camel(scenario.settings))
    plan = await lms.plan(upload, settings, store)
  } catch (error) {
    if (!expect.settings_error) throw error
    for (const key of ['plan', 'store', 'emails', 'results']) assert.ok(!(key in expect), `${name}: ${key} given with settings_error`)
    return checkError(error, expect.settings_error, lms.BulkUploadError, `${name} settings_error`)
  }
  assert.ok(!expect.settings_error, `${name}: planning succeeded but settings_error was expected`)
  if (expect.plan) checkPlan(plan, expect.plan, `${name} plan`)

  if (scenario.store_changes) store = new lms.MemoryStore(camel(applyStoreChanges(scenario.store ?? {}, scenario.store_changes, name)))
  const mailer = new lms.RecordingMailer()
  const results = await plan.execute(store, mailer, { hashParams: FAST_HASH, retryDelayMs: 0 })
  const messages = mailer.messages
  if (expect.store) checkStore(store.state(), expect.store, `${name} store`)
  if (expect.emails) checkEmails(messages, expect.emails, `${name} emails`)
  if (expect.results) checkResults(results, expect.results, `${name} results`)
  const secret = scenario.settings.default_password ?? scenario.settings.defaultPassword
  if (secret) {
    for (const m of messages) {
      for (const part of [m.subject, m.text, m.html]) assert.ok(!part.includes(secret), `${name}: the default password leaked into a ${m.kind} email`)
    }
  }
}

const names = fs
  .readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()

test('the scenario corpus is there', () => {
  assert.ok(names.length > 0, `no scenarios in ${ROOT}`)
})

for (const name of names) {
  test(`scenario ${name}`, () => runScenario(name))
}
