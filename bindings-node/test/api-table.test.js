'use strict'
// Walks the table of the public API (docs/api.md): every Node name on its object, with the
// shape the table gives. A name missing or renamed here, or a value of another shape, fails.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const lms = require('../lms.js')

const TABLE = path.join(__dirname, '..', '..', 'docs', 'api.md')
const FAST_HASH = { memoryKib: 8, iterations: 1, parallelism: 1, insecureForTests: true }

/** `{context: [{what, cell, shape}]}` from every table whose first header cell is a `name`. */
function tables(text, column) {
  const out = {}
  let context = null
  let index = -1
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      context = null
      continue
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    const head = /^`(\w+)`$/.exec(cells[0])
    if (head && cells.includes(column)) {
      context = head[1]
      index = cells.indexOf(column)
      out[context] ??= []
    } else if (context && !/^-+$/.test(cells[0])) {
      out[context].push({ what: cells[0], cell: cells[index].replace(/`/g, ''), shape: cells.at(-1) })
    }
  }
  return out
}

function shapeOk(value, shape) {
  const nullable = shape.endsWith('?')
  if (nullable && value === null) return true
  switch (shape.replace(/\?$/, '')) {
    case 'int': return Number.isInteger(value)
    case 'str': return typeof value === 'string'
    case 'bool': return typeof value === 'boolean'
    case 'list': return Array.isArray(value)
    case 'map': return value !== null && typeof value === 'object' && !Array.isArray(value)
    case 'function': case 'method': case 'class': return typeof value === 'function'
    default: throw new Error(`unknown shape ${shape}`)
  }
}

function read(object, cell, shape) {
  const name = cell.replace(/\(.*\)$/, '')
  if (shape === 'method' || shape === 'function' || shape === 'class') return object[name]
  if (cell.endsWith('()')) {
    assert.equal(typeof object[name], 'function', `${name} is a method`)
    return object[name]()
  }
  assert.ok(name in Object(object), `${name} is present`)
  return object[name]
}

async function contexts() {
  const store = new lms.MemoryStore({
    groups: [{ id: 'g1', name: 'Sales' }],
    users: [{ id: 'u9', email: 'bo@example.com', firstName: 'Bo', lastName: 'Old' }],
  })
  const upload = lms.parse('email,firstname,lastname\nana@example.com,Ana,New\nbo@example.com,Bo,Old\nnot-an-email,Cy,Bad\n')
  const plan = await lms.plan(upload, { generatePasswords: true }, store)
  const mailer = new lms.RecordingMailer()
  const results = await plan.execute(store, mailer, { hashParams: FAST_HASH })
  let error
  try {
    lms.parse('')
  } catch (e) {
    error = e
  }
  const planRow = plan.rows.find((r) => r.action === 'unchanged')
  const resultRow = results.rows.find((r) => r.status === 'unchanged')
  return {
    module: lms,
    upload,
    upload_row: upload.rows[0],
    issue: upload.issues[0],
    code_info: lms.issueCodes()[0],
    settings: new lms.Settings({ generatePasswords: true }),
    plan,
    Plan: lms.Plan,
    plan_row: planRow,
    plan_summary: plan.summary,
    results,
    Results: lms.Results,
    result_row: resultRow,
    result_summary: results.summary,
    error,
    store,
    mailer,
    PlanKey: lms.PlanKey,
    plan_key: lms.PlanKey.generate(),
    web: lms,
    // The methods every WebApi has. An instance is not made here: its bridges to JavaScript
    // keep the process alive until V8 collects it (test/web*.test.js make them).
    web_api: lms.WebApi.prototype,
  }
}

test('every name of docs/api.md exists in Node, with its shape', async () => {
  const table = tables(fs.readFileSync(TABLE, 'utf8'), 'Node')
  const objects = await contexts()
  assert.deepEqual(Object.keys(table).sort(), Object.keys(objects).sort(), 'a context for every table')
  let checked = 0
  for (const [context, rows] of Object.entries(table)) {
    assert.ok(objects[context] !== undefined, `the fixture has a ${context}`)
    for (const { what, cell, shape } of rows) {
      if (cell === '—') continue
      const value = read(objects[context], cell, shape)
      assert.ok(shapeOk(value, shape), `${context}: ${cell} (${what}) is a ${shape}, not ${JSON.stringify(value)}`)
      checked += 1
    }
  }
  assert.ok(checked > 150, `checked ${checked} names`)
})

test('the fixture shows the rows the table is about: nothing to do is [] and 0, not absent', async () => {
  const { plan_row: row, result_row: done, plan_summary: summary, error } = await contexts()
  assert.deepEqual(row.operations, [])
  assert.ok(Array.isArray(row.noops) && Array.isArray(row.issues))
  assert.deepEqual([done.done, done.error], [[], null])
  assert.equal(summary.suspensions, 0)
  assert.ok(error instanceof lms.FileError && error.kind === 'file')
  assert.equal(String(error), `${error.message} [${error.code}]`)
})

test('the store double: add_* return the store, passwordHash and verifyPassword agree', async () => {
  const store = new lms.MemoryStore()
  assert.equal(store.addGroup('g1', 'Sales'), store)
  assert.equal(store.addContent({ kind: 'course', id: 'c1' }), store)
  assert.equal(store.addUser({ id: 'u1', email: 'ana@example.com' }), store)
  assert.equal(store.passwordHash('ana@example.com'), null)
  assert.equal(store.verifyPassword('ana@example.com', 'x'), false)
  assert.deepEqual(store.state().groups, [{ id: 'g1', name: 'Sales' }])
  const upload = lms.parse('email,firstname,lastname\ncy@example.com,Cy,New\n')
  const plan = await lms.plan(upload, { generatePasswords: false, defaultPassword: 'Kowhai-Tree-2026!' }, store)
  await plan.execute(store, new lms.RecordingMailer(), { hashParams: FAST_HASH, defaultPassword: 'Kowhai-Tree-2026!' })
  const hash = store.passwordHash('cy@example.com')
  assert.match(hash, /^\$argon2id\$/)
  assert.ok(lms.verifyPassword(hash, 'Kowhai-Tree-2026!') && store.verifyPassword('cy@example.com', 'Kowhai-Tree-2026!'))
  assert.equal(store.calls.createUser, 1)
})

test('TransientError is retried; version and PLAN_FORMAT_VERSION are the engine\'s', async () => {
  assert.match(lms.version, /^\d+\.\d+\.\d+/)
  assert.equal(lms.version, require('../package.json').version)
  assert.ok(Number.isInteger(lms.PLAN_FORMAT_VERSION))
  assert.equal(new lms.TransientError('busy').transient, true)
})
