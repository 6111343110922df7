'use strict'
// Every scenario of tests/scenarios/ (formats: tests/scenarios/README.md and
// docs/scenario-format.md), run through the public API — parse, settings, plan against a
// MemoryStore, its store_changes, execute with a RecordingMailer. This runner only collects
// what came back (the outcome); the one judge every language shares (`lms-bulk-upload/testing`)
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
  try {
    outcome.results = (await plan.execute(store, mailer, { hashParams: FAST_HASH, retryDelayMs: 0 })).toJSON()
  } catch (error) {
    failed('execute_error', error)
  }
  return Object.assign(outcome, { store: store.state(), emails: mailer.messages })
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
    const outcome = await run(JSON.parse(text), fs.readFileSync(path.join(dir, 'upload.csv')))
    judgeScenario(text, JSON.stringify(outcome))
  })
}
