'use strict'
// The host's side in PostgreSQL (`pg`): the store, the journal and the mailer (an outbox
// table) of one execution all write through ONE client inside ONE transaction, so a batch's
// users, memberships, enrolments, emails and journal entries commit together (`checkpoint`)
// or not at all (a killed worker's open transaction is rolled back by the server).

const SCHEMA_SQL = `
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  profile jsonb NOT NULL DEFAULT '{}',
  password_hash text,
  hash_txid bigint,
  force_password_reset boolean NOT NULL DEFAULT false,
  protected boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE TABLE groups (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE content (kind text NOT NULL, id text NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE memberships (user_id bigint REFERENCES users, group_id bigint REFERENCES groups, PRIMARY KEY (user_id, group_id));
CREATE TABLE enrolments (user_id bigint REFERENCES users, kind text, content_id text, PRIMARY KEY (user_id, kind, content_id));
CREATE TABLE journal (fingerprint text NOT NULL, line integer NOT NULL, row jsonb, PRIMARY KEY (fingerprint, line));
CREATE TABLE outbox (id bigserial PRIMARY KEY, kind text NOT NULL, to_addr text NOT NULL, message jsonb NOT NULL, txid bigint NOT NULL);
CREATE TABLE uploads (fingerprint text PRIMARY KEY, plan text NOT NULL, finished_at timestamptz, results text);
CREATE TABLE shard_results (parent text NOT NULL, index integer NOT NULL, results text NOT NULL, PRIMARY KEY (parent, index));
`

/** Creates the example's tables in `schema` (which must not exist). */
async function createSchema(client, schema) {
  await client.query(`CREATE SCHEMA ${ident(schema)}`)
  await client.query(`SET search_path TO ${ident(schema)}`)
  await client.query(SCHEMA_SQL)
}

/** A schema name as an SQL identifier (the example's names are plain; anything else is refused). */
function ident(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain schema name: ${name}`)
  return `"${name}"`
}

/** The store of the host protocol (camelCase methods), on `client`, in its open transaction. */
class PgStore {
  constructor(client, { onCheckpoint } = {}) {
    this.client = client
    this.onCheckpoint = onCheckpoint
  }
  async findUsers(emails) {
    const { rows } = await this.client.query(
      `SELECT u.id::text AS id, u.email, u.profile, u.protected,
              ARRAY(SELECT g.name FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id) AS groups,
              COALESCE((SELECT json_agg(json_build_object('kind', e.kind, 'id', e.content_id)) FROM enrolments e WHERE e.user_id = u.id), '[]') AS enrolments
         FROM users u WHERE lower(u.email) = ANY($1)`,
      [emails.map((e) => e.toLowerCase())],
    )
    return rows
  }
  async findGroups(names) {
    const { rows } = await this.client.query('SELECT id::text AS id, name FROM groups WHERE name = ANY($1)', [names])
    return rows
  }
  async findContent(refs) {
    const { rows } = await this.client.query(
      'SELECT c.kind, c.id FROM content c JOIN unnest($1::text[], $2::text[]) AS r(kind, id) ON c.kind = r.kind AND c.id = r.id',
      [refs.map((r) => r.kind), refs.map((r) => String(r.id))],
    )
    return rows
  }
  async createUser({ email, profile, passwordHash, forcePasswordReset }) {
    const { rows } = await this.client.query(
      `INSERT INTO users (email, profile, password_hash, hash_txid, force_password_reset)
       VALUES ($1, $2, $3, txid_current(), $4) RETURNING id::text AS id`,
      [email, profile ?? {}, passwordHash, forcePasswordReset],
    )
    return rows[0].id
  }
  async updateProfile(id, fields) {
    await this.client.query('UPDATE users SET profile = profile || $2 WHERE id = $1', [id, fields])
  }
  async setPassword(id, hash, forceReset) {
    await this.client.query('UPDATE users SET password_hash = $2, hash_txid = txid_current(), force_password_reset = $3 WHERE id = $1', [id, hash, forceReset])
  }
  async addToGroup(id, group) {
    await this.client.query('INSERT INTO memberships VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, group.id])
  }
  async removeFromGroup(id, group) {
    await this.client.query('DELETE FROM memberships WHERE user_id = $1 AND group_id = $2', [id, group.id])
  }
  async enrol(id, content) {
    await this.client.query('INSERT INTO enrolments VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [id, content.kind, String(content.id)])
  }
  async allGroupNames() {
    const { rows } = await this.client.query('SELECT name FROM groups ORDER BY name')
    return rows.map((r) => r.name)
  }
  /** Commits the batch (writes, outbox, journal) and opens the next transaction. */
  async checkpoint() {
    await this.client.query('COMMIT')
    await this.client.query('BEGIN')
    this.onCheckpoint?.()
  }
}

/** The journal, in the same transaction as the store's writes. */
class PgJournal {
  constructor(client) {
    this.client = client
  }
  async load(fingerprint) {
    const { rows } = await this.client.query('SELECT line, row FROM journal WHERE fingerprint = $1', [fingerprint])
    return new Map(rows.map((r) => [r.line, r.row]))
  }
  async begin(fingerprint, line) {
    await this.client.query(
      'INSERT INTO journal VALUES ($1, $2, NULL) ON CONFLICT (fingerprint, line) DO UPDATE SET row = NULL',
      [fingerprint, line],
    )
  }
  /** The id the store gave the row's new user: what lets a resumed run adopt it as its own. */
  async created(fingerprint, line, userId) {
    await this.client.query('UPDATE journal SET row = to_jsonb($3::text) WHERE fingerprint = $1 AND line = $2', [fingerprint, line, userId])
  }
  async finish(fingerprint, row) {
    await this.client.query(
      'INSERT INTO journal VALUES ($1, $2, $3) ON CONFLICT (fingerprint, line) DO UPDATE SET row = EXCLUDED.row',
      [fingerprint, row.line, row],
    )
  }
}

/**
 * The mailer: messages go to an outbox table in the same transaction, and a separate sender
 * (not part of this example) delivers and deletes them. Messages carrying a password hold it
 * until delivered: keep the outbox readable by the sender only.
 */
class OutboxMailer {
  constructor(client) {
    this.client = client
  }
  async send(message) {
    await this.client.query('INSERT INTO outbox (kind, to_addr, message, txid) VALUES ($1, $2, $3, txid_current())', [
      message.kind,
      message.to,
      message,
    ])
  }
}

/** Runs `work(client)` in a transaction on a client of `pool` (search_path `schema`). */
async function inTransaction(pool, schema, work) {
  const client = await pool.connect()
  try {
    await client.query(`SET search_path TO ${ident(schema)}`)
    await client.query('BEGIN')
    const value = await work(client)
    await client.query('COMMIT')
    return value
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

module.exports = { createSchema, ident, PgStore, PgJournal, OutboxMailer, inTransaction }
