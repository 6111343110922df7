'use strict'
// A worker process: runs shard jobs and finaliser jobs. Configuration from the environment:
// LBU_PG_URL, LBU_REDIS_URL, LBU_SCHEMA, LBU_QUEUE_PREFIX, LBU_PLAN_KEY (the hex `PlanKey`
// the web process signs plans with; required); LBU_STALLED_MS (BullMQ's lock
// duration and stalled-job check: a killed worker's job is taken up again after it).
// Prints one JSON line per event on stdout (`ready`, `checkpoint`, `shard_done`, `finalised`).

const { Worker } = require('bullmq')
const lms = require('lms-bulk-upload')
const { Pool } = require('pg')
const { queues, runShard, finaliseUpload } = require('./uploads')

const env = process.env
if (!env.LBU_PLAN_KEY) throw new Error('LBU_PLAN_KEY (the hex PlanKey plans are signed with) is required')
const key = lms.PlanKey.fromHex(env.LBU_PLAN_KEY)
const schema = env.LBU_SCHEMA ?? 'public'
const connection = { url: env.LBU_REDIS_URL ?? 'redis://127.0.0.1:6379' }
const stalledMs = Number(env.LBU_STALLED_MS ?? 30000)
const pool = new Pool({ connectionString: env.LBU_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test', max: 4 })
const say = (event) => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...event })}\n`)
const names = queues(env.LBU_QUEUE_PREFIX ?? 'lms-bulk-upload')
// A stalled job is one whose lock was not renewed: its worker died. Checked often here.
const options = { connection, concurrency: 1, lockDuration: stalledMs, stalledInterval: Math.max(500, stalledMs / 2), maxStalledCount: 3 }

const shardWorker = new Worker(
  names.shards,
  async (job) => {
    const index = JSON.parse(job.data.shard).shard.index
    say({ event: 'shard_start', index })
    const summary = await runShard({
      pool,
      schema,
      key,
      shardJson: job.data.shard,
      executeOptions: { threads: 1, batchSize: Number(env.LBU_BATCH_SIZE ?? 256) },
      onCheckpoint: () => say({ event: 'checkpoint', index }),
    })
    say({ event: 'shard_done', index, summary })
    return summary
  },
  options,
)
const finaliser = new Worker(
  names.finalise,
  async (job) => {
    const summary = await finaliseUpload({ pool, schema, key, fingerprint: job.data.fingerprint })
    say({ event: 'finalised', summary })
    return summary
  },
  options,
)

Promise.all([shardWorker.waitUntilReady(), finaliser.waitUntilReady()]).then(() => say({ event: 'ready' }))
for (const w of [shardWorker, finaliser]) w.on('error', (error) => say({ event: 'error', message: error.message }))

async function stop() {
  await Promise.all([shardWorker.close(), finaliser.close()])
  await pool.end()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
