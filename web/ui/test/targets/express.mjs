// The browser suite's target `express` (BULK_UPLOAD_TARGET=express): the example Express LMS of
// examples/node/express_lms (`lms-bulk-upload/express` mounted at /admin/bulk-upload/), on a
// fresh PostgreSQL database per test file, its emails as .eml files in the outbox. Runs go to
// BullMQ (a queue of this server's own on LBU_REDIS_URL) when it is set, else to the API's
// own thread.
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { optionsEnv, runToEnd, seededEnv, startAll } from './common.mjs'

export const PREFIX = '/admin/bulk-upload'

const project = (ROOT) => join(ROOT, 'examples/node/express_lms')

/** A fresh database with the LMS's tables, its demo data and administrator's credentials. */
export function demoEnv({ ROOT, parseCredentials }) {
  const seed = (url) => runToEnd(process.execPath, ['seed.js'], { cwd: project(ROOT), env: { ...process.env, DATABASE_URL: url } })
  return { ...seededEnv('express', seed, parseCredentials), queue: `bu-runs-${randomBytes(4).toString('hex')}` }
}

/** `node app.js`, waited for until it answers. */
export async function startServer(env, { port, extraEnv = {}, args = [] }, { ROOT }) {
  const base = `http://127.0.0.1:${port}`
  const serverEnv = {
    ...extraEnv,
    ...optionsEnv(args),
    PORT: String(port),
    DATABASE_URL: env.databaseUrl,
    SITE_URL: `${base}${PREFIX}`,
    EMAIL_OUTBOX: env.outbox,
    REDIS_URL: process.env.LBU_REDIS_URL ?? '',
    BULK_UPLOAD_QUEUE: env.queue,
  }
  const commands = [[process.execPath, ['app.js'], { cwd: project(ROOT), env: serverEnv }]]
  return { port, ...(await startAll(commands, base, PREFIX, 'the Express LMS')) }
}

/** Whether the Express LMS's own check (`checkPassword` of lms.js) takes the password. */
export function passwordWorks(env, email, password, { ROOT }) {
  const code = `const { Client } = require('pg'); const { checkPassword } = require('./lms.js')
    const c = new Client({ connectionString: process.env.DATABASE_URL })
    c.connect().then(() => c.query('SELECT password_hash FROM lms_users WHERE lower(email) = lower($1)', [process.env.LBU_EMAIL]))
      .then((r) => { console.log(r.rows.length && checkPassword(r.rows[0].password_hash, process.env.LBU_PASSWORD) ? 'yes' : 'no'); return c.end() })`
  const out = runToEnd(process.execPath, ['-e', code], {
    cwd: project(ROOT),
    env: { ...process.env, DATABASE_URL: env.databaseUrl, LBU_EMAIL: email, LBU_PASSWORD: password },
  })
  return out.trim() === 'yes'
}
