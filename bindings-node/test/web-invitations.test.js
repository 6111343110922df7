'use strict'
// Sign-in links through WebApi (a framework mount, as lms-bulk-upload/express serves it): an
// upload planned with sendInvitations and run by the worker emails a link below the mount
// point; the link's page and its routes (/api/invitations/verify, /api/invitations/redeem)
// answer as the reference server's, over an async store keeping only digests; a store
// without the methods has them answer 404.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('../lms.js')
const { AsyncMailer, AsyncStore, FAST_HASH, LinkStore } = require('./async-store.js')
const { Hooks, client, ADMIN, PASSWORD } = require('./web-hooks.js')

const SITE = 'http://lms.test/admin/bulk-upload'
const CSV = 'firstname,lastname,email\nAna,Lopez,ana@x.com\nBo,Chan,bo@x.com\n'

function world(store) {
  const hooks = new Hooks()
  const mailer = new AsyncMailer()
  const api = new lms.WebApi({ hooks, store, mailer, siteUrl: SITE, secret: 's'.repeat(40), execute: { hashParams: FAST_HASH, threads: 1 } })
  return { hooks, mailer, api }
}

async function signedIn(api) {
  const c = client(api)
  const session = await c.call('POST', '/api/session', JSON.stringify({ email: ADMIN, password: PASSWORD }))
  assert.equal(session.status, 200)
  c.csrf = session.json.csrf_token
  return c
}

async function planLinks(c) {
  const upload = await c.call('POST', '/api/uploads?filename=staff.csv', CSV, 'application/octet-stream')
  assert.equal(upload.status, 201, JSON.stringify(upload.json))
  return c.call('POST', `/api/uploads/${upload.json.id}/plans`, JSON.stringify({ settings: { send_invitations: true } }))
}

test('links are issued below the mount point, open their page and work once', async () => {
  const store = new LinkStore()
  const { hooks, mailer, api } = world(store)
  const c = await signedIn(api)
  const plan = await planLinks(c)
  assert.equal(plan.status, 201, JSON.stringify(plan.json))
  assert.equal(plan.json.summary.invitations, 2)
  assert.equal(plan.json.summary.passwords, 0)
  const run = await c.call('POST', `/api/plans/${plan.json.id}/approve`, '{}')
  assert.equal(run.status, 202)
  assert.equal(await api.run(run.json.id), 'ended')

  const welcomes = mailer.messages.filter((m) => ['ana@x.com', 'bo@x.com'].includes(m.to))
  assert.equal(welcomes.length, 2)
  const tokens = welcomes.map((m) => {
    assert.ok(!m.text.includes('Password: '))
    const found = new RegExp(`^${SITE}/invitations/([A-Za-z0-9_-]{43})$`).exec(m.fields.invitationUrl)
    assert.ok(found, m.fields.invitationUrl)
    assert.ok(m.text.includes(m.fields.invitationUrl))
    return found[1]
  })
  const [token] = tokens
  assert.ok(!JSON.stringify([...hooks.records.values()]).includes(token), 'no token in the records')
  assert.ok(!JSON.stringify([...store.links.values()]).includes(token), 'no token in the store')

  const page = await api.handle({ method: 'GET', path: `/invitations/${token}`, query: '', headers: [], body: Buffer.alloc(0) })
  assert.equal(page.status, 200)
  assert.match(page.body.toString(), /src="\/admin\/bulk-upload\/assets\/invitation\.js"/)

  const learner = client(api) // no session: the routes are public
  const verify = (t) => learner.call('POST', '/api/invitations/verify', JSON.stringify({ token: t }))
  const redeem = (t, password) => learner.call('POST', '/api/invitations/redeem', JSON.stringify({ token: t, password }))
  assert.deepEqual((await verify(token)).json, { valid: true })
  const unknown = await verify('A'.repeat(43))
  assert.deepEqual([unknown.status, unknown.json.code], [404, 'invitation_unknown'])
  const weak = await redeem(token, 'password123')
  assert.deepEqual([weak.status, weak.json.code], [422, 'weak_password'])
  const chosen = 'Kowhai-tree-by-the-river-42'
  const done = await redeem(token, chosen)
  assert.equal(done.status, 200)
  assert.deepEqual(done.json, { password_set: true, sign_in_url: SITE })
  const ana = store.users.get('ana@x.com')
  assert.match(ana.passwordHash, /^\$argon2id\$/)
  assert.ok(lms.verifyPassword(ana.passwordHash, chosen))
  const again = await redeem(token, chosen)
  assert.deepEqual([again.status, again.json.code], [410, 'invitation_used'])
  await assert.rejects(lms.verifyInvitation(store, token), (e) => e.code === 'invitation_used')
  assert.deepEqual((await verify(tokens[1])).json, { valid: true }, "the other user's link is untouched")
})

test('a store without the methods serves no links, and an upload sending them is refused', async () => {
  const { api } = world(new AsyncStore())
  const dead = await client(api).call('POST', '/api/invitations/verify', JSON.stringify({ token: 'A'.repeat(43) }))
  assert.deepEqual([dead.status, dead.json.code], [404, 'not_found'])
  const plan = await planLinks(await signedIn(api))
  assert.equal(plan.json.code, 'host_method_missing')
})
