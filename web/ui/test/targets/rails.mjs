// The browser suite's target `rails` (BULK_UPLOAD_TARGET=rails): the example Rails LMS of
// examples/ruby/rails_lms (`LmsBulkUpload::Web` mounted at /admin/bulk-upload/ in its routes),
// served by Puma on a fresh PostgreSQL database per test file, its emails as .eml files in
// the outbox. Runs are ActiveJob jobs: on a Sidekiq worker (started beside the server, on a
// queue of this server's own) when LBU_REDIS_URL is set, else on the async adapter.
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { optionsEnv, runToEnd, seededEnv, startAll } from './common.mjs'

export const PREFIX = '/admin/bulk-upload'

const project = (ROOT) => join(ROOT, 'examples/ruby/rails_lms')
const ruby = process.env.BULK_UPLOAD_RUBY ?? 'ruby'

/** A fresh database with the LMS's tables, its demo data and administrator's credentials. */
export function demoEnv({ ROOT, parseCredentials }) {
  const seed = (url) => runToEnd(ruby, ['bin/seed'], { cwd: project(ROOT), env: { ...process.env, DATABASE_URL: url } })
  return { ...seededEnv('rails', seed, parseCredentials), queue: `bu-runs-${randomBytes(4).toString('hex')}` }
}

/** `puma -C config/puma.rb` (and `sidekiq` with Redis), waited for until it answers. */
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
  const options = { cwd: project(ROOT), env: serverEnv }
  const commands = [[ruby, ['-S', 'puma', '-C', 'config/puma.rb'], options]]
  if (serverEnv.REDIS_URL) commands.push([ruby, ['-S', 'sidekiq', '-r', '.', '-q', env.queue, '-c', '2'], options])
  return { port, ...(await startAll(commands, base, PREFIX, 'the Rails LMS')) }
}

/** Whether the Rails LMS's own check (`LmsHooks.check_password`: scrypt, or the engine's argon2id) takes the password. */
export function passwordWorks(env, email, password, { ROOT }) {
  const code = 'require "./config/environment"\n' +
    'user = User.find_by(email_key: LmsBulkUpload.email_key(ENV["LBU_EMAIL"]))\n' +
    'puts(user && LmsHooks.check_password(user.password_hash, ENV["LBU_PASSWORD"]) ? "yes" : "no")'
  const out = runToEnd(ruby, ['-e', code], {
    cwd: project(ROOT),
    env: { ...process.env, DATABASE_URL: env.databaseUrl, LBU_EMAIL: email, LBU_PASSWORD: password },
  })
  return out.trim().split('\n').pop() === 'yes'
}
