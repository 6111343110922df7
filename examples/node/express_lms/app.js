'use strict'
// An Express LMS with the bulk upload screens at /admin/bulk-upload/: `node app.js`.
// From the environment: DATABASE_URL (PostgreSQL), PORT (3000), SITE_URL (the screens' public
// URL), REDIS_URL (runs on BullMQ workers in this process; unset: on the API's own thread),
// EMAIL_OUTBOX (a folder for .eml files; unset: the console), SECRET (32+ bytes).
const express = require('express')
const { Pool } = require('pg')
const bulkUpload = require('lms-bulk-upload/express')
const { LmsHooks, LmsStore, OutboxMailer } = require('./lms.js')

const env = process.env
const port = Number(env.PORT ?? 3000)
const pool = new Pool({ connectionString: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/express_lms', max: 8 })
// One statement per journal entry: commits need not wait for the disk (a crash of the database
// server may lose the last moments; the journal then replays them as not done).
pool.on('connect', (client) => client.query('SET synchronous_commit = off'))

function hashParams() {
  const p = {}
  if (env.BULK_UPLOAD_ARGON2_MEMORY_KIB) p.memoryKib = Number(env.BULK_UPLOAD_ARGON2_MEMORY_KIB)
  if (env.BULK_UPLOAD_ARGON2_ITERATIONS) p.iterations = Number(env.BULK_UPLOAD_ARGON2_ITERATIONS)
  if (env.BULK_UPLOAD_INSECURE_FAST_HASHING === '1') p.insecureForTests = true
  return Object.keys(p).length ? { hashParams: p } : null
}

// The runs' queue: BullMQ on Redis when the LMS has it.
let queue = null
let worker = null
if (env.REDIS_URL) {
  const { Queue, Worker } = require('bullmq')
  const connection = { url: env.REDIS_URL }
  const name = env.BULK_UPLOAD_QUEUE ?? 'bulk-upload-runs'
  queue = new Queue(name, { connection })
  worker = new Worker(name, async (job) => {
    // Another worker's heartbeat is fresh: wait, and take the run over if that worker died.
    for (;;) {
      const outcome = await screens.api.run(job.data.runId)
      if (outcome !== 'busy') return outcome
      await new Promise((r) => setTimeout(r, 1000))
    }
  }, { connection, concurrency: 2 })
}

// The lines a host adds: the screens, with its hooks, store and mailer.
const screens = bulkUpload({
  hooks: new LmsHooks(pool, queue ? { enqueueRun: (runId) => queue.add('run', { runId }) } : {}),
  store: new LmsStore(pool),
  mailer: new OutboxMailer(env.EMAIL_OUTBOX),
  siteUrl: env.SITE_URL ?? `http://127.0.0.1:${port}/admin/bulk-upload`,
  secret: env.SECRET ?? 'example only: set SECRET, 32 characters or more, the same for every process',
  execute: hashParams(),
  parseOptions: env.BULK_UPLOAD_MAX_FILE_BYTES ? { maxFileBytes: Number(env.BULK_UPLOAD_MAX_FILE_BYTES) } : null,
})

const app = express()
app.use('/admin/bulk-upload', screens)
app.get('/', (req, res) => res.send('The example LMS: the bulk upload screens are at /admin/bulk-upload/'))

const server = app.listen(port, '127.0.0.1', () => console.log(`express_lms: listening on http://127.0.0.1:${port}/admin/bulk-upload/`))

// A graceful stop: no new requests, BullMQ's jobs in hand finished, the connections closed;
// then the process ends by itself (the screens' API does not keep it alive once idle; a run
// on its own thread does until it ends, interrupted by the pool's end, and resumes at the
// next start).
async function stop() {
  server.close()
  await worker?.close()
  await queue?.close()
  await pool.end()
}
process.on('SIGTERM', () =>
  void stop().catch((error) => {
    console.error(error)
    process.exitCode = 1
  }),
)
