'use strict'
// One upload spread over BullMQ workers: the web process plans it and enqueues a flow (a
// finaliser job whose children are the shard jobs); a worker runs a shard; the finaliser,
// which BullMQ starts once every child has completed, merges and confirms once. Every plan
// stored (the uploads row, each shard job) is signed with the installation's `PlanKey`, so
// whoever can write the database or Redis but not read the key cannot change one.

const { FlowProducer } = require('bullmq')
const lms = require('lms-bulk-upload')
const { PgStore, PgJournal, OutboxMailer, inTransaction } = require('./pg-host')

/** The queue names of an installation (`prefix` keeps test runs apart). */
const queues = (prefix) => ({ shards: `${prefix}-shards`, finalise: `${prefix}-finalise` })

/**
 * The web process, once the uploader approved `plan`: records the upload, cuts the plan into
 * shards and enqueues the flow, each plan signed with `key`. `jobOptions`: BullMQ's, for
 * every shard job (e.g. attempts).
 */
async function enqueueUpload({ pool, schema, connection, prefix, plan, key, rowsPerShard, jobOptions = {} }) {
  await inTransaction(pool, schema, (client) =>
    client.query('INSERT INTO uploads (fingerprint, plan) VALUES ($1, $2) ON CONFLICT DO NOTHING', [plan.fingerprint, plan.toSignedJSON(key)]),
  )
  const shards = plan.shards(rowsPerShard)
  const names = queues(prefix)
  const flow = new FlowProducer({ connection })
  try {
    return await flow.add({
      name: 'finalise',
      queueName: names.finalise,
      data: { fingerprint: plan.fingerprint },
      opts: { jobId: `finalise-${plan.fingerprint.slice(7)}` },
      children: shards.map((shard) => ({
        name: 'shard',
        queueName: names.shards,
        data: { shard: shard.toSignedJSON(key) },
        opts: { jobId: `shard-${shard.fingerprint.slice(7)}`, ...jobOptions },
      })),
    })
  } finally {
    await flow.close()
  }
}

/**
 * A shard job: executes the shard in one transaction per batch (the journal and the outbox
 * in it) and saves its results with the last batch. A redelivered job resumes from the
 * journal: finished rows are skipped, nobody is created twice.
 */
async function runShard({ pool, schema, key, shardJson, executeOptions = {}, onCheckpoint }) {
  const shard = lms.Plan.fromSignedJSON(shardJson, key)
  return inTransaction(pool, schema, async (client) => {
    const store = new PgStore(client, { onCheckpoint })
    const results = await shard.execute(store, new OutboxMailer(client), { ...executeOptions, journal: new PgJournal(client) })
    const { parent, index } = shard.shard
    await client.query(
      'INSERT INTO shard_results VALUES ($1, $2, $3) ON CONFLICT (parent, index) DO UPDATE SET results = EXCLUDED.results',
      [parent, index, results.toSignedJSON(key)],
    )
    return results.summary
  })
}

/**
 * The finaliser: merges the shards' results and sends the uploader's confirmation, once.
 * The upload row is locked and marked finished in the transaction that writes the email
 * to the outbox, so a finaliser run twice (or killed and run again) confirms once.
 */
async function finaliseUpload({ pool, schema, key, fingerprint }) {
  return inTransaction(pool, schema, async (client) => {
    const { rows } = await client.query('SELECT plan, finished_at, results FROM uploads WHERE fingerprint = $1 FOR UPDATE', [fingerprint])
    if (rows.length === 0) throw new Error(`no upload ${fingerprint}`)
    if (rows[0].finished_at) return JSON.parse(rows[0].results).summary
    const parent = lms.Plan.fromSignedJSON(rows[0].plan, key)
    const saved = await client.query('SELECT results FROM shard_results WHERE parent = $1', [fingerprint])
    // Signed by the shard jobs: a row edited in the table is refused, not merged.
    const merged = lms.Results.merge(parent, saved.rows.map((r) => lms.Results.fromSignedJSON(r.results, key)))
    await merged.sendConfirmation(parent, new OutboxMailer(client))
    await client.query('UPDATE uploads SET finished_at = now(), results = $2 WHERE fingerprint = $1', [fingerprint, merged.toJSONString()])
    return merged.summary
  })
}

module.exports = { queues, enqueueUpload, runShard, finaliseUpload }
