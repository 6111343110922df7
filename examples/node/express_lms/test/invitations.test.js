'use strict'
// The Express example's sign-in link methods on a real PostgreSQL database (LBU_PG_URL, a
// fresh database dropped at the end): only digests kept; a newer upload's link revokes the
// older unused one; of concurrent redemptions of one link exactly one succeeds and the
// user's other links go; undo's revoke drops only that upload's unused links.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Pool } = require('pg')
const { SCHEMA, LmsStore } = require('../lms.js')
const { admin, createDatabase } = require('./pg.js')

const digest = () => crypto.randomBytes(32).toString('hex')

test('sign-in links in PostgreSQL: kept as digests, revoked, redeemed once', async (t) => {
  const { name, url } = await createDatabase('bu_links')
  const pool = new Pool({ connectionString: url, max: 8 })
  // pool.end() resolves once it has asked its connections to close, not once they have: the
  // database is dropped once none is left (no FORCE, which would terminate one still closing
  // and make it report an error), asked again while PostgreSQL says it is in use (55006).
  t.after(async () => {
    await pool.end()
    for (let attempt = 1; ; attempt++) {
      try {
        await admin(`DROP DATABASE IF EXISTS ${name}`)
        return
      } catch (error) {
        if (error.code !== '55006' || attempt === 100) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })
  await pool.query(SCHEMA)
  const store = new LmsStore(pool)
  const ana = await store.createUser({ email: 'ana@x.com', profile: { firstName: 'Ana' }, passwordHash: null, forcePasswordReset: false, loginMethod: 'password' })
  const expiresAt = Math.floor(Date.now() / 1000) + 3600

  const first = digest()
  await store.addInvitation({ user: ana, digest: first, expiresAt, upload: 'upload-a' })
  assert.deepEqual(await store.findInvitation(first), { user: ana, digest: first, expiresAt, used: false })
  assert.equal(await store.findInvitation(digest()), null)

  // A resumed run of the same upload keeps the earlier link; another upload's link replaces it.
  const again = digest()
  await store.addInvitation({ user: ana, digest: again, expiresAt, upload: 'upload-a' })
  assert.ok(await store.findInvitation(first))
  const newer = digest()
  await store.addInvitation({ user: ana, digest: newer, expiresAt, upload: 'upload-b' })
  assert.equal(await store.findInvitation(first), null)
  assert.equal(await store.findInvitation(again), null)

  // Concurrent redemptions on several connections: one wins.
  const other = digest()
  await store.addInvitation({ user: ana, digest: other, expiresAt, upload: 'upload-b' })
  const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.redeemInvitation(newer)))
  assert.equal(outcomes.filter(Boolean).length, 1, JSON.stringify(outcomes))
  assert.equal((await store.findInvitation(newer)).used, true)
  assert.equal(await store.findInvitation(other), null, "the user's other unused link is gone")
  assert.equal(await store.redeemInvitation(newer), false)

  // Undo: that upload's unused links go, used ones stay.
  const later = digest()
  await store.addInvitation({ user: ana, digest: later, expiresAt, upload: 'upload-c' })
  await store.revokeInvitations(ana, 'upload-b')
  assert.ok(await store.findInvitation(later))
  await store.revokeInvitations(ana, 'upload-c')
  assert.equal(await store.findInvitation(later), null)
  assert.equal((await store.findInvitation(newer)).used, true)

  // Deleting the user deletes its links.
  await store.deleteUser(ana)
  assert.equal(await store.findInvitation(newer), null)
})
