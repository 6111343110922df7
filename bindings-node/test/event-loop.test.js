'use strict'
// plan() and execute() run off the JavaScript thread: timers keep firing while they work.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store')

function csv(rows) {
  const lines = ['firstname,lastname,email,addgroup']
  for (let i = 0; i < rows; i++) lines.push(`First${i},Last${i},user${i}@example.com,Sales`)
  return lines.join('\n')
}

/** Runs `work` while a 5 ms interval timer ticks; returns the ticks and the longest gap. */
async function whileTicking(work) {
  let ticks = 0
  let last = performance.now()
  let longest = 0
  const timer = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    ticks++
  }, 5)
  const started = performance.now()
  try {
    const value = await work()
    return { value, ticks, longest, elapsed: performance.now() - started }
  } finally {
    clearInterval(timer)
  }
}

test('a timer keeps firing during a large execute into the MemoryStore', async () => {
  const upload = lms.parse(csv(20_000))
  const store = new lms.MemoryStore({ groups: [{ id: 'g1', name: 'Sales' }] })
  const settings = { generatePasswords: false, defaultPassword: 'Welcome-to-the-LMS-2026', forcePasswordReset: true }
  const plan = await lms.plan(upload, settings, store)
  let progressCalls = 0
  let lastProgress
  const { value: results, ticks, longest, elapsed } = await whileTicking(() =>
    plan.execute(store, new lms.RecordingMailer(), {
      onProgress: (p) => {
        progressCalls++
        lastProgress = p
      },
    }),
  )
  assert.equal(results.summary.created, 20_000)
  assert.deepEqual(lastProgress, { done: 20_000, total: 20_000, failed: 0 })
  assert.ok(progressCalls >= 1)
  // The loop was free: the timer fired about as often as it could.
  assert.ok(ticks >= Math.floor(elapsed / 5 / 4), `only ${ticks} ticks in ${elapsed.toFixed(0)} ms`)
  assert.ok(longest < 250, `the event loop was blocked for ${longest.toFixed(0)} ms`)
})

test('a timer keeps firing while an async host store is planned and executed', async () => {
  const upload = lms.parse(csv(3_000))
  const host = new AsyncStore({ groups: [{ id: 1, name: 'Sales' }] })
  const { value: plan, longest: planGap } = await whileTicking(() => lms.plan(upload, {}, host))
  assert.equal(plan.summary.create, 3_000)
  const { value: results, ticks, longest } = await whileTicking(() =>
    plan.execute(host, new AsyncMailer(), { hashParams: FAST_HASH }),
  )
  assert.equal(results.summary.created, 3_000)
  assert.ok(ticks > 10, `only ${ticks} ticks`)
  assert.ok(Math.max(planGap, longest) < 250, `the event loop was blocked for ${Math.max(planGap, longest).toFixed(0)} ms`)
})

test('parseFile reads and parses off the JavaScript thread', async (t) => {
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lms-')), 'users.csv')
  fs.writeFileSync(file, csv(50_000))
  t.after(() => fs.rmSync(path.dirname(file), { recursive: true }))
  const { value: upload } = await whileTicking(() => lms.parseFile(file))
  assert.equal(upload.length, 50_000)
  assert.equal(upload.validCount, 50_000)
})
