'use strict'
// Every scenario of tests/scenarios/ (formats: tests/scenarios/README.md and
// docs/scenario-format.md), run through the public API — parse, settings, plan against a
// MemoryStore, its store_changes, execute with a RecordingMailer, then the undo of a scenario
// that has one (as `run_undo` in core/tests/scenarios.rs). This runner only collects what
// came back (the outcome); the one judge every language shares (`lms-bulk-upload/testing`)
// compares it.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const lms = require('..')
const { applyStoreChanges, judgeScenario } = require('../testing')

const ROOT = path.join(__dirname, '..', '..', 'tests', 'scenarios')
const FAST_HASH = { memoryKib: 64, iterations: 1, parallelism: 1, insecureForTests: true }

const errorOf = ({ code, kind, message, line, column }) => ({ code, kind, message, line, column })
const execOptions = () => ({ hashParams: FAST_HASH, retryDelayMs: 0 })

/** Object keys at every depth in camelCase, as `store.state()` gives them. */
const camelKeys = (value) =>
  Array.isArray(value)
    ? value.map(camelKeys)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camelKeys(v)]))
      : value

/**
 * A journal in memory, kept by this runner (a host journal, through the engine's host
 * protocol), that aborts `controller` once `cancelAfter` rows are finished. The engine
 * awaits `finish` before its next row, so the cancellation lands exactly there; an
 * `onProgress` callback could not do this, as it runs on the JavaScript thread while the
 * engine goes on (progress is reported without waiting).
 */
function cancellingJournal() {
  const entries = new Map() // fingerprint -> Map(line -> row | null)
  const of = (fingerprint) => entries.get(fingerprint) ?? entries.set(fingerprint, new Map()).get(fingerprint)
  return {
    controller: null,
    cancelAfter: 0,
    finished: 0,
    load(fingerprint) {
      return new Map(of(fingerprint))
    },
    begin(fingerprint, line) {
      of(fingerprint).set(line, null)
    },
    finish(fingerprint, row) {
      of(fingerprint).set(row.line, row)
      this.finished += 1
      if (this.controller && this.finished >= this.cancelAfter) this.controller.abort()
    },
  }
}

/**
 * The undo part: plan the undo of `results` against the store after the upload (and the
 * undo's `store_changes`), execute it with a journal (cancelled after `cancel_after`
 * rows, then executed again with the same journal), then try to undo the undo.
 */
async function runUndo(undo, results, store) {
  const out = {}
  const caught = (key, error) => {
    if (!(error instanceof lms.BulkUploadError)) throw error
    out[key] = errorOf(error)
  }
  // The state comes back with camelCase keys; the changes' fields are given in snake_case.
  const changes = (undo.store_changes ?? []).map((change) =>
    Object.fromEntries(Object.entries(change).map(([op, arg]) => [op, camelKeys(arg)])),
  )
  const undoStore = new lms.MemoryStore(applyStoreChanges(store.state(), changes))
  let plan
  try {
    plan = await lms.planUndo(results, undoStore, undo.options)
  } catch (error) {
    caught('error', error)
    return out
  }
  out.plan = plan.toJSON()
  const journal = cancellingJournal()
  const mailer = new lms.RecordingMailer()
  let failed = false
  if (undo.cancel_after) {
    Object.assign(journal, { controller: new AbortController(), cancelAfter: undo.cancel_after })
    try {
      out.first_results = (await plan.execute(undoStore, mailer, { ...execOptions(), journal, signal: journal.controller.signal })).toJSON()
    } catch (error) {
      caught('execute_error', error)
      failed = true
    }
    journal.controller = null
  }
  if (!failed) {
    try {
      const again = await plan.execute(undoStore, mailer, { ...execOptions(), journal })
      out.results = again.toJSON()
      try {
        await lms.planUndo(again, undoStore)
      } catch (error) {
        caught('again_error', error)
      }
    } catch (error) {
      caught('execute_error', error)
    }
  }
  return Object.assign(out, { store: undoStore.state(), emails: mailer.messages })
}

/** Runs the scenario as far as it goes; what each step gave, with the error that stopped it. */
async function run(scenario, bytes) {
  const outcome = {}
  const failed = (key, error) => {
    if (!(error instanceof lms.BulkUploadError)) throw error
    outcome[key] = errorOf(error)
    return outcome
  }
  let upload
  try {
    upload = lms.parse(bytes, scenario.parse_options)
  } catch (error) {
    return failed('parse_error', error)
  }
  outcome.upload = upload.report()
  if (!('settings' in scenario)) return outcome
  let store = new lms.MemoryStore(scenario.store ?? {})
  let plan
  try {
    plan = await lms.plan(upload, scenario.settings, store)
  } catch (error) {
    return failed('settings_error', error)
  }
  outcome.plan = plan.toJSON()
  if (scenario.store_changes) store = new lms.MemoryStore(applyStoreChanges(scenario.store, scenario.store_changes))
  const mailer = new lms.RecordingMailer()
  let results
  try {
    results = await plan.execute(store, mailer, execOptions())
    outcome.results = results.toJSON()
  } catch (error) {
    failed('execute_error', error)
  }
  Object.assign(outcome, { store: store.state(), emails: mailer.messages })
  if (scenario.undo && results) outcome.undo = await runUndo(scenario.undo, results, store)
  return outcome
}

const names = fs
  .readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()

test('the scenario corpus is there', () => {
  assert.ok(names.length > 0, `no scenarios in ${ROOT}`)
})

test('the judge refuses an outcome that differs from the scenario', () => {
  const scenario = JSON.stringify({ description: 'One valid row.', expect: { issues: [], rows: 1, valid_rows: 1 } })
  judgeScenario(scenario, JSON.stringify({ upload: { rows: 1, validRows: 1, issues: [] } }))
  assert.throws(() => judgeScenario(scenario, JSON.stringify({ upload: { rows: 2, validRows: 1, issues: [] } })), {
    name: 'AssertionError',
    message: 'expect.rows: expected 1, got 2',
  })
})

for (const name of names) {
  test(`scenario ${name}`, async () => {
    const dir = path.join(ROOT, name)
    const text = fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8')
    // upload.csv, or a spreadsheet: upload.xlsx, upload.xls, upload.ods
    const upload = ['csv', 'xlsx', 'xls', 'ods'].map((ext) => path.join(dir, `upload.${ext}`)).find((p) => fs.existsSync(p))
    const outcome = await run(JSON.parse(text), fs.readFileSync(upload))
    judgeScenario(text, JSON.stringify(outcome))
  })
}
