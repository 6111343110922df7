'use strict'
// The Express LMS stops gracefully: `node app.js` on a fresh seeded PostgreSQL database
// (LBU_PG_URL), its screens used (signed in, an upload approved: a run), then SIGTERM. Its
// stop closes the server, BullMQ's worker and queue and the pool, and does not call
// process.exit: the process must end by itself with code 0 (killed after 30 s, the test
// failing, when something keeps it alive). Runs on the API's own thread, and on BullMQ
// (LBU_REDIS_URL, a queue of the test's own).
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const net = require('node:net')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { admin, createDatabase } = require('./pg.js')

const REDIS = process.env.LBU_REDIS_URL ?? 'redis://127.0.0.1:6379'
const APP = path.join(__dirname, '..')
const PREFIX = '/admin/bulk-upload'

/** A fresh database, seeded: its URL and the administrator's credentials. */
async function seeded(t) {
  const { name, url } = await createDatabase('bu_exit')
  t.after(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
  const seed = spawnSync(process.execPath, ['seed.js'], { cwd: APP, env: { ...process.env, DATABASE_URL: url }, encoding: 'utf8' })
  assert.equal(seed.status, 0, seed.stderr)
  const email = /email: +(\S+)/.exec(seed.stdout)[1]
  const password = /password: +(\S+)/.exec(seed.stdout)[1]
  return { databaseUrl: url, email, password }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** `node app.js` answering; `exited` settles with `{code, signal}`, or rejects after SIGKILL. */
async function started(env) {
  const child = spawn(process.execPath, ['app.js'], { cwd: APP, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const base = `http://127.0.0.1:${env.PORT}${PREFIX}`
  for (let tries = 0; ; tries++) {
    try {
      if ((await fetch(`${base}/api/session`)).status === 401) break
    } catch {
      // not listening yet
    }
    if (tries > 300) {
      child.kill('SIGKILL')
      throw new Error(`the Express LMS did not answer:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  /** Sends SIGTERM; the exit, or an error once it had to be killed 30 s later. */
  async function stop() {
    child.kill('SIGTERM')
    let timer
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL')
        resolve(null)
      }, 30_000)
    })
    const outcome = await Promise.race([exited, killed])
    clearTimeout(timer)
    if (outcome === null) throw new Error(`the Express LMS did not exit on its own after SIGTERM (killed after 30 s):\n${log}`)
    return { ...outcome, log }
  }
  return { base, stop }
}

/** Signs in, uploads, plans and approves an upload: the run's id. */
async function approveARun(base, { email, password }) {
  const origin = new URL(base).origin
  let cookie = ''
  let csrf = ''
  const call = async (method, target, body, type = 'application/json') => {
    const res = await fetch(`${base}${target}`, { method, body, headers: { origin, 'content-type': type, cookie, 'x-csrf-token': csrf } })
    const setCookie = res.headers.get('set-cookie')
    if (setCookie) cookie = setCookie.split(';')[0]
    return { status: res.status, json: await res.json() }
  }
  const session = await call('POST', '/api/session', JSON.stringify({ email, password }))
  assert.equal(session.status, 200, JSON.stringify(session.json))
  csrf = session.json.csrf_token
  const lines = ['firstname,lastname,email,addgroup']
  for (let i = 0; i < 50; i++) lines.push(`First${i},Last${i},user${i}@example.com,Sales`)
  const upload = await call('POST', '/api/uploads?filename=staff.csv', lines.join('\n'), 'application/octet-stream')
  assert.equal(upload.status, 201, JSON.stringify(upload.json))
  const plan = await call('POST', `/api/uploads/${upload.json.id}/plans`, JSON.stringify({ settings: {} }))
  assert.equal(plan.status, 201, JSON.stringify(plan.json))
  const run = await call('POST', `/api/plans/${plan.json.id}/approve`, '{}')
  assert.equal(run.status, 202, JSON.stringify(run.json))
  return run.json.id
}

for (const [queue, what] of [
  [false, "runs on the API's own thread"],
  [true, 'runs on BullMQ'],
]) {
  test(`the Express LMS ends by itself after SIGTERM (${what})`, async (t) => {
    const db = await seeded(t)
    const port = await freePort()
    const env = {
      PORT: String(port),
      DATABASE_URL: db.databaseUrl,
      SITE_URL: `http://127.0.0.1:${port}${PREFIX}`,
      EMAIL_OUTBOX: path.join(require('node:os').tmpdir(), `bu-exit-${crypto.randomBytes(4).toString('hex')}`),
      BULK_UPLOAD_INSECURE_FAST_HASHING: '1',
      REDIS_URL: queue ? REDIS : '',
      BULK_UPLOAD_QUEUE: `bu-exit-${crypto.randomBytes(4).toString('hex')}`,
    }
    t.after(() => require('node:fs').rmSync(env.EMAIL_OUTBOX, { recursive: true, force: true }))
    const app = await started(env)
    assert.equal((await fetch(`${app.base}/runs`)).status, 200)
    await approveARun(app.base, db)
    const { code, signal, log } = await app.stop()
    assert.deepEqual([code, signal], [0, null], log)
  })
}
