'use strict'
// A process using the package ends on its own once its work is done, and not before: a child
// `node` process is started with a script, and must exit by itself with code 0 (it is killed,
// and the test fails, if it is still running after 30 s). An idle WebApi does not keep the
// event loop alive (its server closed, the process ends); a request being answered, a run on
// the API's own thread or given to `api.run`, an events stream being read, and plan/execute
// over JavaScript objects do (their results are there as the process exits).
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')

/** Runs `source` in a child `node` (from this folder); `{code, signal, stdout, stderr}`. */
function runChild(source) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { cwd: __dirname, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let killed = false
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, 30_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (killed) reject(new Error(`the process did not exit on its own (killed after 30 s):\n${stdout}\n${stderr}`))
      else resolve({ code, signal, stdout, stderr })
    })
  })
}

/** The child's last line of stdout, as JSON (what it printed as it exited). */
function lastJson(stdout) {
  return JSON.parse(stdout.trim().split('\n').at(-1))
}

// The child's common part: the test's hooks (`Hooks`), an async store and mailer, a WebApi.
const WORLD = `
const { WebApi } = require('../lms.js')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store.js')
const { Hooks, client, ADMIN, PASSWORD, ORIGIN } = require('./web-hooks.js')
const hooks = new Hooks()
const store = new AsyncStore({ groups: [{ id: 1, name: 'Sales' }] })
const mailer = new AsyncMailer()
const api = new WebApi({ hooks, store, mailer, siteUrl: ORIGIN + '/admin/bulk-upload', secret: 's'.repeat(40), execute: { hashParams: FAST_HASH, threads: 1 } })
const lines = ['firstname,lastname,email,addgroup']
for (let i = 0; i < 200; i++) lines.push('First' + i + ',Last' + i + ',user' + i + '@example.com,Sales')
const CSV = lines.join('\\n')
async function signedIn() {
  const c = client(api)
  c.csrf = (await c.call('POST', '/api/session', JSON.stringify({ email: ADMIN, password: PASSWORD }))).json.csrf_token
  return c
}
async function approved(c) {
  const upload = await c.call('POST', '/api/uploads?filename=staff.csv', CSV, 'application/octet-stream')
  const plan = await c.call('POST', '/api/uploads/' + upload.json.id + '/plans', JSON.stringify({ settings: {} }))
  const run = await c.call('POST', '/api/plans/' + plan.json.id + '/approve', '{}')
  if (run.status !== 202) throw new Error(JSON.stringify(run.json))
  return run.json.id
}
function runStates() {
  return [...hooks.records.values()].filter((r) => r.kind === 'run').map((r) => r.doc.state)
}
`

test('a WebApi behind lms-bulk-upload/express: the process ends on its own once its server is closed', async () => {
  const { code, signal, stdout, stderr } = await runChild(`${WORLD}
const http = require('node:http')
const bulkUpload = require('../express.js')
const middleware = bulkUpload(api)
const server = http.createServer((req, res) => {
  req.url = req.url.slice('/admin/bulk-upload'.length) || '/'
  middleware(req, res, (e) => res.writeHead(500).end(String(e)))
})
const seen = []
server.listen(0, '127.0.0.1', async () => {
  const base = 'http://127.0.0.1:' + server.address().port + '/admin/bulk-upload'
  seen.push((await fetch(base + '/runs')).status)
  const session = await fetch(base + '/api/session', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN, password: PASSWORD }) })
  seen.push(session.status)
  server.close()
  // A request still being answered as the server closes keeps the process alive until it is.
  api.handle({ method: 'GET', path: '/api/session' }).then((answer) => seen.push(answer.status))
})
process.on('exit', () => console.log(JSON.stringify({ seen })))
`)
  assert.equal(stderr, '')
  assert.deepEqual([code, signal], [0, null])
  assert.deepEqual(lastJson(stdout), { seen: [200, 200, 401] })
})

test('a run on the API\'s own thread keeps the process alive until it has ended', async () => {
  const { code, signal, stdout, stderr } = await runChild(`${WORLD}
hooks.enqueueRun = undefined // no job queue: the run executes on the API's own thread
;(async () => {
  await approved(await signedIn())
  // Nothing else to do here: the run alone keeps the process alive.
})()
process.on('exit', () => console.log(JSON.stringify({ runs: runStates(), users: store.users.size })))
`)
  assert.equal(stderr, '')
  assert.deepEqual([code, signal], [0, null])
  assert.deepEqual(lastJson(stdout), { runs: ['finished'], users: 200 })
})

test('a run given to api.run (a job queue\'s worker) and its events stream keep the process alive until they end', async () => {
  const { code, signal, stdout, stderr } = await runChild(`${WORLD}
let outcome = null
let streamed = ''
;(async () => {
  const c = await signedIn()
  const id = await approved(c)
  if (hooks.queue[0] !== id) throw new Error('not queued')
  api.run(id).then((o) => (outcome = o)) // not awaited
  const events = await c.call('GET', '/api/runs/' + id + '/events')
  for await (const chunk of events.answer.stream) streamed += chunk
})()
process.on('exit', () => console.log(JSON.stringify({ runs: runStates(), users: store.users.size, outcome, ended: streamed.includes('event: end') })))
`)
  assert.equal(stderr, '')
  assert.deepEqual([code, signal], [0, null])
  assert.deepEqual(lastJson(stdout), { runs: ['finished'], users: 200, outcome: 'ended', ended: true })
})

test('plan and execute over JavaScript objects: the process ends as their work ends, not before', async () => {
  const { code, signal, stdout, stderr } = await runChild(`
const lms = require('../lms.js')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store.js')
const lines = ['firstname,lastname,email']
for (let i = 0; i < 200; i++) lines.push('First' + i + ',Last' + i + ',user' + i + '@example.com')
const store = new AsyncStore()
let results = null
let progress = null
lms
  .plan(lms.parse(lines.join('\\n')), {}, store)
  .then((plan) => plan.execute(store, new AsyncMailer(), { hashParams: FAST_HASH, onProgress: (p) => (progress = p) }))
  .then((r) => (results = r.summary.created))
process.on('exit', () => console.log(JSON.stringify({ results, users: store.users.size, progress })))
`)
  assert.equal(stderr, '')
  assert.deepEqual([code, signal], [0, null])
  assert.deepEqual(lastJson(stdout), { results: 200, users: 200, progress: { done: 200, total: 200, failed: 0 } })
})
