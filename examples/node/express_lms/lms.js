'use strict'
// The example LMS's data in PostgreSQL (`pg`): its users, groups, content, enrolments and
// sign-in links, the engine's store on them (every method of the host protocol, undo's and
// sign-in links' included), and the
// screens' hooks: its administrators and a table of records (docs/web-host-protocol.md).

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { emailKey, verifyPassword } = require('lms-bulk-upload')

const SCHEMA = `
CREATE TABLE IF NOT EXISTS lms_users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  first_name text NOT NULL DEFAULT '',
  last_name text NOT NULL DEFAULT '',
  profile jsonb NOT NULL DEFAULT '{}',
  password_hash text,
  force_password_reset boolean NOT NULL DEFAULT false,
  is_admin boolean NOT NULL DEFAULT false,
  protected boolean NOT NULL DEFAULT false,
  suspended boolean NOT NULL DEFAULT false,
  suspended_by_upload boolean NOT NULL DEFAULT false,
  login_method text NOT NULL DEFAULT 'password'
);
CREATE UNIQUE INDEX IF NOT EXISTS lms_users_email ON lms_users (lower(email));
CREATE TABLE IF NOT EXISTS lms_groups (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS lms_members (user_id bigint REFERENCES lms_users ON DELETE CASCADE, group_id bigint REFERENCES lms_groups, PRIMARY KEY (user_id, group_id));
CREATE TABLE IF NOT EXISTS lms_content (kind text NOT NULL, id text NOT NULL, title text NOT NULL DEFAULT '', PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS lms_enrolments (user_id bigint REFERENCES lms_users ON DELETE CASCADE, kind text, content_id text, PRIMARY KEY (user_id, kind, content_id));
-- Sign-in links: the SHA-256 digest of each token (hex), never the token; its expiry (Unix
-- seconds), when it was used, and the upload (plan fingerprint) that issued it, for undo.
CREATE TABLE IF NOT EXISTS lms_invitations (
  digest text PRIMARY KEY CHECK (length(digest) = 64),
  user_id bigint NOT NULL REFERENCES lms_users ON DELETE CASCADE,
  upload text NOT NULL,
  expires_at bigint NOT NULL,
  used_at timestamptz
);
CREATE INDEX IF NOT EXISTS lms_invitations_by_user ON lms_invitations (user_id);
CREATE TABLE IF NOT EXISTS bulk_upload_records (
  seq bigserial PRIMARY KEY,
  kind text NOT NULL,
  key text NOT NULL,
  version bigint NOT NULL,
  doc jsonb NOT NULL,
  UNIQUE (kind, key)
);
CREATE INDEX IF NOT EXISTS bulk_upload_records_list ON bulk_upload_records (kind, seq DESC);
`

const PROFILE = ['phoneNumber', 'uniqueId', 'country', 'organisation', 'languageCode']

// ---- the LMS's own password hashes (its administrators): scrypt from node:crypto ----------

function hashPassword(password) {
  const salt = crypto.randomBytes(16)
  return `scrypt$${salt.toString('hex')}$${crypto.scryptSync(password, salt, 32).toString('hex')}`
}

function checkPassword(stored, password) {
  if (stored?.startsWith('$argon2id$')) return verifyPassword(stored, password) // set by an upload
  const [scheme, salt, hash] = String(stored ?? 'scrypt$00$00').split('$')
  const actual = crypto.scryptSync(password, Buffer.from(salt ?? '', 'hex'), 32)
  const expected = Buffer.from(hash ?? '', 'hex')
  return scheme === 'scrypt' && expected.length === actual.length && crypto.timingSafeEqual(actual, expected)
}

// ---- the engine's store --------------------------------------------------------------------

class LmsStore {
  constructor(pool) {
    this.pool = pool
  }

  async #users(where, params) {
    const { rows } = await this.pool.query(
      `SELECT u.*, ARRAY(SELECT g.name FROM lms_members m JOIN lms_groups g ON g.id = m.group_id WHERE m.user_id = u.id) AS groups,
              COALESCE((SELECT json_agg(json_build_object('kind', e.kind, 'id', e.content_id)) FROM lms_enrolments e WHERE e.user_id = u.id), '[]') AS enrolments
       FROM lms_users u WHERE ${where}`,
      params,
    )
    return rows.map((u) => ({
      id: String(u.id),
      email: u.email,
      firstName: u.first_name || null,
      lastName: u.last_name || null,
      ...Object.fromEntries(PROFILE.map((f) => [f, u.profile[f] || null])),
      groups: u.groups,
      enrolments: u.enrolments,
      protected: u.protected || u.is_admin,
      suspended: u.suspended,
      suspendedByUpload: u.suspended_by_upload,
      loginMethod: u.login_method,
    }))
  }

  findUsers(emails) {
    return this.#users('lower(u.email) = ANY($1)', [emails.map(emailKey)])
  }

  async findGroups(names) {
    const { rows } = await this.pool.query('SELECT id::text AS id, name FROM lms_groups WHERE name = ANY($1)', [names])
    return rows
  }

  async findContent(refs) {
    const { rows } = await this.pool.query('SELECT kind, id FROM lms_content')
    const known = new Set(rows.map((r) => `${r.kind}\u0000${r.id}`))
    return refs.filter((r) => known.has(`${r.kind}\u0000${r.id}`))
  }

  async allGroupNames() {
    return (await this.pool.query('SELECT name FROM lms_groups ORDER BY name')).rows.map((r) => r.name)
  }

  async scopeUsers(after, limit) {
    const users = await this.#users(`NOT u.is_admin AND u.id > $1 ORDER BY u.id LIMIT ${Number(limit)}`, [after ?? 0])
    return { users, next: users.length === Number(limit) ? users[users.length - 1].id : null }
  }

  async createUser(user) {
    const p = user.profile
    const profile = Object.fromEntries(PROFILE.filter((f) => p[f]).map((f) => [f, p[f]]))
    const { rows } = await this.pool.query(
      `INSERT INTO lms_users (email, first_name, last_name, profile, password_hash, force_password_reset, login_method)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text AS id`,
      [user.email, p.firstName ?? '', p.lastName ?? '', profile, user.passwordHash, user.forcePasswordReset, user.loginMethod],
    )
    return rows[0].id
  }

  async updateProfile(id, changes) {
    const { firstName, lastName, custom, ...rest } = changes
    await this.pool.query(
      `UPDATE lms_users SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name), profile = profile || $4 WHERE id = $1`,
      [id, firstName ?? null, lastName ?? null, rest],
    )
  }

  async setPassword(id, hash, forceReset) {
    await this.pool.query('UPDATE lms_users SET password_hash = $2, force_password_reset = $3 WHERE id = $1', [id, hash, forceReset])
  }

  async addToGroup(id, group) {
    await this.pool.query('INSERT INTO lms_members VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, group.id])
  }

  async removeFromGroup(id, group) {
    await this.pool.query('DELETE FROM lms_members WHERE user_id = $1 AND group_id = $2', [id, group.id])
  }

  async enrol(id, content) {
    await this.pool.query('INSERT INTO lms_enrolments VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, content.kind, content.id])
  }

  async withdraw(id, content) {
    await this.pool.query('DELETE FROM lms_enrolments WHERE user_id = $1 AND kind = $2 AND content_id = $3', [id, content.kind, content.id])
  }

  async suspendUser(id) {
    await this.pool.query('UPDATE lms_users SET suspended = true, suspended_by_upload = true WHERE id = $1', [id])
  }

  async reactivateUser(id) {
    await this.pool.query('UPDATE lms_users SET suspended = false, suspended_by_upload = false WHERE id = $1', [id])
  }

  async deleteUser(id) {
    await this.pool.query('DELETE FROM lms_users WHERE id = $1', [id])
    return true
  }

  async setLoginMethod(id, method) {
    await this.pool.query('UPDATE lms_users SET login_method = $2 WHERE id = $1', [id, method])
  }

  // ---- sign-in links: the digest and expiry kept, never the token

  async addInvitation({ user, digest, expiresAt, upload }) {
    // One statement: a newer link revokes the user's unused ones from other uploads (a
    // resumed run's earlier link for this upload keeps working).
    await this.pool.query(
      `WITH revoked AS (DELETE FROM lms_invitations WHERE user_id = $1 AND used_at IS NULL AND upload <> $4)
       INSERT INTO lms_invitations (digest, user_id, upload, expires_at) VALUES ($2, $1, $4, $3)
       ON CONFLICT (digest) DO UPDATE SET user_id = EXCLUDED.user_id, upload = EXCLUDED.upload, expires_at = EXCLUDED.expires_at`,
      [user, digest, expiresAt, upload],
    )
  }

  async findInvitation(digest) {
    const { rows } = await this.pool.query(
      'SELECT user_id::text AS "user", digest, expires_at::text AS "expiresAt", used_at IS NOT NULL AS used FROM lms_invitations WHERE digest = $1',
      [digest],
    )
    return rows.length ? { ...rows[0], expiresAt: Number(rows[0].expiresAt) } : null
  }

  async redeemInvitation(digest) {
    // Atomic and single-use in one statement: of two concurrent redemptions, PostgreSQL's row
    // lock lets one mark the link used; the other finds it used. The user's other links go.
    const { rows } = await this.pool.query(
      `WITH used AS (UPDATE lms_invitations SET used_at = now() WHERE digest = $1 AND used_at IS NULL RETURNING user_id),
       dropped AS (DELETE FROM lms_invitations WHERE user_id IN (SELECT user_id FROM used) AND used_at IS NULL AND digest <> $1)
       SELECT count(*)::int AS n FROM used`,
      [digest],
    )
    return rows[0].n === 1
  }

  async revokeInvitations(id, upload) {
    await this.pool.query('DELETE FROM lms_invitations WHERE user_id = $1 AND upload = $2 AND used_at IS NULL', [id, upload])
  }
}

// ---- the screens' hooks ---------------------------------------------------------------------

class LmsHooks {
  constructor(pool, { enqueueRun } = {}) {
    this.pool = pool
    // BullMQ when the LMS has Redis; without it the API runs each run on a thread of its own.
    if (enqueueRun) this.enqueueRun = enqueueRun
  }

  async authenticate(email, password) {
    const { rows } = await this.pool.query('SELECT email, password_hash FROM lms_users WHERE lower(email) = $1 AND is_admin AND NOT suspended', [emailKey(email)])
    const ok = checkPassword(rows[0]?.password_hash, password) // a decoy hash when none: as slow
    return ok && rows.length ? rows[0].email : null
  }

  async getRecord(kind, id) {
    const { rows } = await this.pool.query('SELECT version::int AS version, doc FROM bulk_upload_records WHERE kind = $1 AND key = $2', [kind, id])
    return rows[0] ?? null
  }

  async putRecord(kind, id, doc, expected) {
    const json = JSON.stringify(doc)
    let result
    if (expected === null) {
      result = await this.pool.query(
        `INSERT INTO bulk_upload_records (kind, key, version, doc) VALUES ($1, $2, 1, $3)
         ON CONFLICT (kind, key) DO UPDATE SET doc = EXCLUDED.doc, version = bulk_upload_records.version + 1`,
        [kind, id, json],
      )
    } else if (expected === 0) {
      result = await this.pool.query('INSERT INTO bulk_upload_records (kind, key, version, doc) VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING', [kind, id, json])
    } else {
      result = await this.pool.query('UPDATE bulk_upload_records SET doc = $3, version = version + 1 WHERE kind = $1 AND key = $2 AND version = $4', [kind, id, json, expected])
    }
    return result.rowCount === 1
  }

  async listRecords(kind, offset, limit) {
    const total = (await this.pool.query('SELECT count(*)::int AS n FROM bulk_upload_records WHERE kind = $1', [kind])).rows[0].n
    const { rows } = await this.pool.query('SELECT key AS id, doc FROM bulk_upload_records WHERE kind = $1 ORDER BY seq DESC OFFSET $2 LIMIT $3', [kind, offset, limit])
    return { total, items: rows }
  }

  async deleteRecord(kind, id) {
    await this.pool.query('DELETE FROM bulk_upload_records WHERE kind = $1 AND key = $2', [kind, id])
  }

  async catalog() {
    const groups = (await this.pool.query('SELECT id::text AS id, name FROM lms_groups ORDER BY name')).rows
    const content = (await this.pool.query('SELECT kind, id, title FROM lms_content ORDER BY kind, title')).rows
    return { groups, content }
  }
}

// ---- the mailer: .eml files into an outbox folder, or the console ------------------------

class OutboxMailer {
  constructor(folder, from = 'LMS <no-reply@lms.example.com>') {
    this.folder = folder
    this.from = from
  }

  send(message) {
    const boundary = crypto.randomBytes(12).toString('hex')
    const eml = [
      `From: ${this.from}`, `To: ${message.to}`, `Subject: ${message.subject}`, 'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${boundary}"`, '',
      `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', '', message.text,
      `--${boundary}`, 'Content-Type: text/html; charset=utf-8', '', message.html, `--${boundary}--`, '',
    ].join('\r\n')
    if (!this.folder) {
      console.log(eml)
      return
    }
    fs.mkdirSync(this.folder, { recursive: true })
    const name = path.join(this.folder, `${process.hrtime.bigint().toString().padStart(20, '0')}-${boundary.slice(0, 8)}.eml`)
    fs.writeFileSync(`${name}.tmp`, eml)
    fs.renameSync(`${name}.tmp`, name)
  }
}

module.exports = { SCHEMA, LmsStore, LmsHooks, OutboxMailer, checkPassword, hashPassword }
