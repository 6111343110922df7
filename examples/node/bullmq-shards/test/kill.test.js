'use strict'
// Against real servers: PostgreSQL (LBU_PG_URL) and Redis (LBU_REDIS_URL). Two worker
// processes run the shards of one generated-password upload at the real argon2 cost; one is
// killed with SIGKILL mid-shard and BullMQ's stalled-job check hands its shard to another.
// A missing server fails the test with how to start it: never a skip.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const net = require('node:net')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { Queue } = require('bullmq')
const { Pool } = require('pg')
const lms = require('lms-bulk-upload')
const { createSchema, ident, PgStore } = require('../pg-host')
const { queues, enqueueUpload, finaliseUpload } = require('../uploads')

const PG_URL = process.env.LBU_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
const REDIS_URL = process.env.LBU_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ROWS = Number(process.env.LBU_KILL_TEST_ROWS ?? 1000)
const ROWS_PER_SHARD = 100
const BATCH = 25
const WAIT_MS = 600_000 // a bound, not a time asserted
const START_PG = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
const START_REDIS =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'

const run = `${process.pid}_${crypto.randomBytes(4).toString('hex')}`
const schema = `lbu_test_${run}`
const prefix = `lbu-test-${run}`
const key = lms.PlanKey.generate() // the installation's key: the workers get it in LBU_PLAN_KEY

function redisReachable(url) {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) })
    socket.setTimeout(3000)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => (socket.destroy(), resolve(data.toString().startsWith('+PONG'))))
    for (const e of ['error', 'timeout']) socket.once(e, () => (socket.destroy(), resolve(false)))
  })
}

/** A worker process; `events` collects its JSON lines; `waitFor(pred)` resolves on the first match. */
function startWorker() {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'worker.js')], {
    env: { ...process.env, LBU_PG_URL: PG_URL, LBU_REDIS_URL: REDIS_URL, LBU_SCHEMA: schema, LBU_QUEUE_PREFIX: prefix, LBU_PLAN_KEY: key.toHex(), LBU_STALLED_MS: '2000', LBU_BATCH_SIZE: String(BATCH) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const worker = { child, events: [], waiters: [] }
  let buffer = ''
  child.stdout.on('data', (data) => {
    buffer += data
    for (let nl; (nl = buffer.indexOf('\n')) >= 0; ) {
      const event = JSON.parse(buffer.slice(0, nl))
      buffer = buffer.slice(nl + 1)
      worker.events.push(event)
      worker.waiters = worker.waiters.filter(([pred, resolve]) => !(pred(event) && (resolve(event), true)))
    }
  })
  worker.waitFor = (pred) => new Promise((resolve) => worker.waiters.push([pred, resolve]))
  return worker
}

async function until(what, check) {
  const end = Date.now() + WAIT_MS
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > end) assert.fail(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

test(`${ROWS} generated-password rows on 2 BullMQ workers, one SIGKILLed mid-shard`, async (t) => {
  const pool = new Pool({ connectionString: PG_URL, max: 2, connectionTimeoutMillis: 5000 })
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    await pool.end()
    assert.fail(`PostgreSQL is not reachable at ${PG_URL} (${error.message}). Start it with: ${START_PG} (or set LBU_PG_URL)`)
  }
  if (!(await redisReachable(REDIS_URL))) {
    await pool.end()
    assert.fail(`Redis is not reachable at ${REDIS_URL}. Start it with: ${START_REDIS} (or set LBU_REDIS_URL)`)
  }
  const workers = []
  const connection = { url: REDIS_URL }
  t.after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    for (const name of Object.values(queues(prefix))) {
      const queue = new Queue(name, { connection })
      await queue.obliterate({ force: true }).catch(() => {})
      await queue.close()
    }
    await pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`)
    await pool.end()
  })

  // The host's database, and the web process's plan.
  const client = await pool.connect()
  try {
    await createSchema(client, schema)
    await client.query("INSERT INTO groups (name) VALUES ('Sales'), ('Staff')")
    await client.query("INSERT INTO content VALUES ('course', 'c1')")
  } finally {
    client.release()
  }
  const csv = ['firstname,lastname,email,addgroup']
  for (let i = 0; i < ROWS; i++) csv.push(`F${i},L${i},user${i}@example.com,Sales`)
  const settings = new lms.Settings({ groups: ['Staff'], enrolments: [{ kind: 'course', id: 'c1' }], uploaderEmail: 'boss@example.com' })
  const web = await pool.connect()
  let plan
  try {
    await web.query(`SET search_path TO ${ident(schema)}`)
    plan = await lms.plan(lms.parse(csv.join('\n')), settings, new PgStore(web))
  } finally {
    web.release()
  }
  assert.equal(plan.summary.create ?? plan.rows.filter((r) => r.action === 'create').length, ROWS)

  workers.push(startWorker(), startWorker())
  await Promise.all(workers.map((w) => w.waitFor((e) => e.event === 'ready')))
  await enqueueUpload({ pool, schema, connection, prefix, plan, key, rowsPerShard: ROWS_PER_SHARD, jobOptions: { attempts: 3 } })

  // Kill the first worker once one of its shards has committed a batch but not finished.
  const victim = workers[0]
  const mid = await victim.waitFor((e) => e.event === 'checkpoint')
  victim.child.kill('SIGKILL')
  await new Promise((resolve) => victim.child.once('exit', resolve))
  assert.ok(!victim.events.some((e) => e.event === 'shard_done' && e.index === mid.index), 'killed mid-shard')
  workers.push(startWorker()) // the replacement a supervisor would start

  const done = await until('the finaliser', async () => {
    const { rows } = await pool.query(`SELECT results FROM ${ident(schema)}.uploads WHERE finished_at IS NOT NULL`)
    return rows[0] && JSON.parse(rows[0].results)
  })
  const q = (sql) => pool.query(sql.replaceAll('S.', `${ident(schema)}.`)).then((r) => r.rows)

  // Every user once, in both groups, enrolled.
  const [{ users, distinct }] = await q('SELECT count(*)::int AS users, count(DISTINCT lower(email))::int AS distinct FROM S.users')
  assert.equal(users, ROWS)
  assert.equal(distinct, ROWS)
  const [{ memberships }] = await q(
    "SELECT count(*)::int AS memberships FROM S.memberships m JOIN S.groups g ON g.id = m.group_id WHERE g.name IN ('Sales', 'Staff')",
  )
  assert.equal(memberships, 2 * ROWS)
  const [{ enrolled }] = await q("SELECT count(DISTINCT user_id)::int AS enrolled FROM S.enrolments WHERE kind = 'course' AND content_id = 'c1'")
  assert.equal(enrolled, ROWS)

  // Every user's stored hash is argon2id at the real cost, and their last email and the hash
  // were committed by the same transaction; the last emailed password verifies against the
  // hash for one user in ten, ten in every shard (each verification is a real argon2 hash:
  // all of them took half of this test's time, and a shard's users are made by one code path).
  const hashes = await q('SELECT lower(email) AS email, password_hash, hash_txid FROM S.users')
  const last = await q(
    `SELECT DISTINCT ON (lower(to_addr)) lower(to_addr) AS email, txid, message->'fields'->>'password' AS password
       FROM S.outbox WHERE message->'fields' ? 'password' ORDER BY lower(to_addr), id DESC`,
  )
  const lastByEmail = new Map(last.map((r) => [r.email, r]))
  assert.equal(lastByEmail.size, ROWS)
  assert.equal(new Set(hashes.map((h) => h.password_hash)).size, ROWS)
  let verified = 0
  for (const h of hashes) {
    assert.match(h.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    const mail = lastByEmail.get(h.email)
    assert.ok(mail?.password, h.email)
    assert.equal(String(mail.txid), String(h.hash_txid), `${h.email}: last email and stored hash from one transaction`)
    if (Number(/^user(\d+)@/.exec(h.email)[1]) % 10 !== 0) continue
    verified++
    assert.ok(lms.verifyPassword(h.password_hash, mail.password), `${h.email}: the last emailed password verifies`)
  }
  assert.equal(verified, ROWS / 10)

  // Exactly one confirmation, with the merged counts; a second finaliser run sends nothing.
  const fingerprint = plan.fingerprint
  assert.equal((await finaliseUpload({ pool, schema, key, fingerprint })).created, ROWS)
  const confirmations = await q("SELECT message FROM S.outbox WHERE kind = 'upload_complete'")
  assert.equal(confirmations.length, 1)
  assert.equal(confirmations[0].message.to, 'boss@example.com')
  assert.equal(confirmations[0].message.fields.counts.created, ROWS)
  assert.equal(done.summary.created, ROWS)
  assert.equal(done.summary.failed, 0)
  assert.ok(done.summary.resumed >= BATCH, `the killed shard resumed from its journal (resumed ${done.summary.resumed})`)
  const shardsDone = workers.flatMap((w) => w.events).filter((e) => e.event === 'shard_done').map((e) => e.index)
  assert.equal(new Set(shardsDone).size, ROWS / ROWS_PER_SHARD)
  console.log(`rows ${ROWS}, shards ${ROWS / ROWS_PER_SHARD}, resumed ${done.summary.resumed}, killed during shard ${mid.index}`)
})
