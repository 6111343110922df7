'use strict'
// Every host-protocol vector of tests/host-protocol/ (format: docs/host-protocol.md), run
// through the public API with native JavaScript objects as the store, mailer and journal,
// scripted from the vector. The outcome goes to the one judge every language shares
// (`lms-bulk-upload/testing`), which compares the results JSON byte for byte and the calls.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { setImmediate: tick } = require('node:timers/promises')
const lms = require('..')
const { judgeProtocolFolder } = require('../testing')

const ROOT = path.join(__dirname, '..', '..', 'tests', 'host-protocol')

/** Every method of the protocol, by object (snake_case, as vectors name them). */
const METHODS = {
  store: ['find_users', 'find_groups', 'find_content', 'create_user', 'update_profile', 'set_password', 'add_to_group', 'remove_from_group', 'enrol', 'all_group_names', 'checkpoint', 'add_invitation', 'find_invitation', 'redeem_invitation', 'revoke_invitations'],
  mailer: ['send', 'flush'],
  journal: ['load', 'begin', 'finish', 'created'],
}

const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

/** A vector's value as a JavaScript host gives it: camelCase keys, `{"$bigint"}` a BigInt. */
function native(value) {
  if (Array.isArray(value)) return value.map(native)
  if (value === null || typeof value !== 'object') return value
  if (Object.keys(value).length === 1 && typeof value.$bigint === 'string') return BigInt(value.$bigint)
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [camel(key), native(v)]))
}

/**
 * A plain object with every method of `object` but those the vector lists as missing. Each
 * answers with its replies in order (the last one repeats; none: undefined), every other
 * call through a Promise, and records `[object, method, args]` into `calls`.
 */
function scripted(object, spec, calls) {
  const host = {}
  const missing = new Set(spec.missing ?? [])
  for (const method of METHODS[object].filter((m) => !missing.has(m))) {
    const replies = spec.replies?.[method] ?? []
    let used = 0
    host[camel(method)] = function (...args) {
      calls.push([object, camel(method), JSON.parse(JSON.stringify(args))])
      const reply = replies[Math.min(used, replies.length - 1)]
      const later = used++ % 2 === 1
      const answer = () => {
        if (reply === undefined || !('raise' in reply)) return reply === undefined ? undefined : native(reply.return)
        throw Object.assign(new Error(reply.raise), { transient: reply.transient === true })
      }
      return later ? tick().then(answer) : answer()
    }
  }
  return host
}

/** Runs the vector through the public API; returns the outcome the judge reads. */
async function run(vector) {
  const calls = []
  const store = scripted('store', vector.host.store, calls)
  const mailer = scripted('mailer', vector.host.mailer, calls)
  const journal = vector.host.journal && scripted('journal', vector.host.journal, calls)
  const outcome = (stage, error, results) => ({
    error: error ? { code: error.code, kind: error.kind, message: error.message } : null,
    stage,
    results_json: results ? results.toJSONString() : null,
    calls,
  })
  const failed = (stage, error) => {
    if (!(error instanceof lms.BulkUploadError)) throw error
    return outcome(stage, error, null)
  }
  let plan
  try {
    const upload = lms.parse(vector.upload, native(vector.parse_options))
    plan = await lms.plan(upload, native(vector.settings ?? {}), store)
  } catch (error) {
    return failed('plan', error)
  }
  try {
    return outcome(null, null, await plan.execute(store, mailer, { ...native(vector.execute ?? {}), journal }))
  } catch (error) {
    return failed('execute', error)
  }
}

const names = fs.existsSync(ROOT)
  ? fs.readdirSync(ROOT).filter((name) => fs.existsSync(path.join(ROOT, name, 'vector.json'))).sort()
  : []

test('the host-protocol vectors are there', () => {
  assert.ok(names.length >= 15, `only ${names.length} vectors in ${ROOT}`)
})

test('the judge refuses an outcome whose results differ', async () => {
  const folder = path.join(ROOT, names[0])
  const outcome = await run(JSON.parse(fs.readFileSync(path.join(folder, 'vector.json'), 'utf8')))
  judgeProtocolFolder(folder, JSON.stringify(outcome))
  const wrong = { ...outcome, results_json: outcome.results_json.replace('"line":2', '"line":3') }
  assert.throws(() => judgeProtocolFolder(folder, JSON.stringify(wrong)), { name: 'AssertionError', message: /byte for byte/ })
})

for (const name of names) {
  test(`host-protocol vector ${name}`, async () => {
    const folder = path.join(ROOT, name)
    const vector = JSON.parse(fs.readFileSync(path.join(folder, 'vector.json'), 'utf8'))
    judgeProtocolFolder(folder, JSON.stringify(await run(vector)))
  })
}
