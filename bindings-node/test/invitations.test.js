'use strict'
// Sign-in links through the public API: the `sendInvitations` setting, the link in the
// message (never a password), verifyInvitation / redeemInvitation with their codes, and an
// async host store keeping only digests through the host protocol.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')
const { AsyncMailer, FAST_HASH, LinkStore } = require('./async-store')

const CSV = 'firstname,lastname,email\nAna,Lee,ana@x.com\nBo,Chan,bo@x.com\n'

function tokenOf(message) {
  const link = message.fields.invitationUrl
  assert.equal(message.fields.password, undefined)
  assert.ok(message.text.includes(link))
  return link.split('/').pop()
}

test('the setting and its rules', () => {
  const settings = new lms.Settings({ sendInvitations: true }).toJSON()
  assert.equal(settings.sendInvitations, true)
  assert.equal(settings.generatePasswords, false)
  assert.equal(settings.invitationUrl, 'https://lms.example.com/invitations/{token}')
  assert.throws(() => new lms.Settings({ sendInvitations: true, sendNotificationEmail: false }), (e) =>
    e instanceof lms.SettingsError && e.code === 'notification_required_for_invitations')
})

test('links verify and work once with a MemoryStore', async () => {
  const store = new lms.MemoryStore()
  const mailer = new lms.RecordingMailer()
  const plan = await lms.plan(lms.parse(CSV), { sendInvitations: true }, store)
  assert.equal(plan.summary.invitations, 2)
  const results = await plan.execute(store, mailer, { hashParams: FAST_HASH })
  const token = tokenOf(mailer.messages[0])
  assert.ok(!JSON.stringify(results).includes(token) && !JSON.stringify(plan).includes(token))
  const user = await lms.verifyInvitation(store, token)
  assert.equal(await lms.redeemInvitation(store, token), user)
  await assert.rejects(lms.redeemInvitation(store, token), (e) => e instanceof lms.InvitationError && e.code === 'invitation_used')
  await assert.rejects(lms.verifyInvitation(store, tokenOf(mailer.messages[1]), { now: 2 ** 40 }), (e) => e.code === 'invitation_expired')
  await assert.rejects(lms.verifyInvitation(store, 'nope'), (e) => e.kind === 'invitation' && e.code === 'invitation_unknown')
})

test('an async host store keeps only digests', async () => {
  const store = new LinkStore()
  const mailer = new AsyncMailer()
  const plan = await lms.plan(lms.parse(CSV), { sendInvitations: true }, store)
  await plan.execute(store, mailer, { hashParams: FAST_HASH })
  const token = tokenOf(mailer.messages[0])
  assert.equal(store.links.size, 2)
  for (const [digest, link] of store.links) {
    assert.match(digest, /^[0-9a-f]{64}$/)
    assert.ok(!JSON.stringify(link).includes(token))
  }
  for (const u of store.users.values()) assert.equal(u.passwordHash, null)
  const user = await lms.verifyInvitation(store, token)
  assert.equal(await lms.redeemInvitation(store, token), user)
  await assert.rejects(lms.verifyInvitation(store, token), (e) => e.code === 'invitation_used')
})

test('a store without the methods is refused when planned', async () => {
  const store = new LinkStore()
  store.findInvitation = undefined
  await assert.rejects(lms.plan(lms.parse(CSV), { sendInvitations: true }, store), (e) =>
    e instanceof lms.StoreError && e.code === 'host_method_missing')
})
