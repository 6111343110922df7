'use strict'
// WebApi (web.js) and lms-bulk-upload/express: the screens' API over JavaScript hooks whose
// methods are async (records in a Map), an async store and mailer; sign-in by the host's
// check, an upload planned and approved, the run queued and executed by the "worker"
// (`api.run`), its events streamed; the Express middleware on a real HTTP server.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { WebApi } = require('../lms.js')
const bulkUpload = require('../express.js')
const { AsyncStore, AsyncMailer, FAST_HASH } = require('./async-store.js')
const { ADMIN, Hooks, ORIGIN, PASSWORD } = require('./web-hooks.js')

function world() {
  const hooks = new Hooks()
  const store = new AsyncStore({ groups: [{ id: 1, name: 'Sales' }] })
  const mailer = new AsyncMailer()
  const api = new WebApi({ hooks, store, mailer, siteUrl: `${ORIGIN}/admin/bulk-upload`, secret: 's'.repeat(40), execute: { hashParams: FAST_HASH, threads: 1 } })
  return { hooks, store, mailer, api }
}

const CSV = 'firstname,lastname,email,addgroup\nAna,Lopez,ana@x.com,Sales\nBo,Chan,bo@x.com,\n'

test('WebApi: column assignments are each upload\'s, not in the parse options for every upload', () => {
  const parseOptions = { columnAssignments: { 0: null } }
  assert.throws(() => new WebApi({ hooks: new Hooks(), store: new AsyncStore(), mailer: new AsyncMailer(), siteUrl: ORIGIN, secret: 's'.repeat(40), parseOptions }), /column_assignments/)
})

test('WebApi: sign in, upload, plan, approve; the worker runs the queued run; its events stream', async () => {
  const { hooks, store, api } = world()
  let cookie = ''
  let csrf = ''
  const call = async (method, target, body = '', type = 'application/json') => {
    const [path, query = ''] = target.split('?')
    const headers = [['origin', ORIGIN], ['content-type', type], ['cookie', cookie], ['x-csrf-token', csrf]]
    const answer = await api.handle({ method, path, query, headers, body: Buffer.from(body), peer: '127.0.0.1' })
    const setCookie = answer.headers.find(([n]) => n === 'set-cookie')
    if (setCookie) cookie = setCookie[1].split(';')[0]
    return { status: answer.status, json: answer.body?.length ? JSON.parse(answer.body) : null, answer }
  }
  assert.equal((await call('POST', '/api/session', JSON.stringify({ email: ADMIN, password: 'wrong' }))).json.code, 'invalid_credentials')
  const session = await call('POST', '/api/session', JSON.stringify({ email: ADMIN, password: PASSWORD }))
  assert.equal(session.status, 200)
  csrf = session.json.csrf_token
  const upload = await call('POST', '/api/uploads?filename=staff.csv', CSV, 'application/octet-stream')
  assert.equal(upload.status, 201, JSON.stringify(upload.json))
  const plan = await call('POST', `/api/uploads/${upload.json.id}/plans`, JSON.stringify({ settings: {} }))
  assert.equal(plan.status, 201, JSON.stringify(plan.json))
  const run = await call('POST', `/api/plans/${plan.json.id}/approve`, '{}')
  assert.equal(run.status, 202)
  assert.equal(run.json.state, 'queued')
  assert.deepEqual(hooks.queue, [run.json.id])

  assert.equal(await api.run(run.json.id), 'ended')
  assert.equal(await api.run(run.json.id), 'already_ended')
  const ended = await call('GET', `/api/runs/${run.json.id}`)
  assert.equal(ended.json.state, 'finished')
  assert.equal(ended.json.counts.created, 2)
  assert.equal(store.users.size, 2)

  const events = await call('GET', `/api/runs/${run.json.id}/events`)
  assert.equal(events.answer.body, null)
  let text = ''
  for await (const chunk of events.answer.stream) text += chunk
  assert.match(text, /"state":"finished"/)
  const records = JSON.stringify([...hooks.records.values()])
  assert.ok(!records.includes(PASSWORD))
})

test('lms-bulk-upload/express: the screens below a mount point of a real HTTP server', async () => {
  const { api } = world()
  const middleware = bulkUpload(api)
  assert.equal(middleware.api, api)
  const server = http.createServer((req, res) => {
    const prefix = '/admin/bulk-upload'
    if (!req.url.startsWith(prefix)) return res.writeHead(404).end()
    req.url = req.url.slice(prefix.length) || '/' // what Express does for app.use(prefix, ...)
    middleware(req, res, (e) => res.writeHead(500).end(String(e)))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${server.address().port}/admin/bulk-upload`
  try {
    const page = await fetch(`${base}/runs`)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<meta name="bu-base" content="\/admin\/bulk-upload">/)
    assert.equal((await fetch(`${base}/api/session`)).status, 401)
    const big = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: 'x'.repeat(2 << 20) })
    assert.equal(big.status, 413)
  } finally {
    server.close()
  }
})
