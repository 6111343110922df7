// The browser suite's target `django` (BULK_UPLOAD_TARGET=django): the example Django LMS of
// examples/python/django_lms, with the screens mounted at /admin/bulk-upload/, on a fresh
// PostgreSQL database per test file (LBU_PG_URL's server), its emails as .eml files in the
// outbox. Runs execute on Celery workers (a worker started beside the server, on LBU_REDIS_URL)
// when LBU_REDIS_URL is set, else on a thread of the web process.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

export const PREFIX = '/admin/bulk-upload'

const PG = process.env.LBU_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

function python(ROOT) {
  return process.env.BULK_UPLOAD_PYTHON ?? join(ROOT, '.venv/bin/python')
}

function project(ROOT) {
  return join(ROOT, 'examples/python/django_lms')
}

function databaseUrl(name) {
  const url = new URL(PG)
  url.pathname = `/${name}`
  return url.toString()
}

function psql(sql) {
  const r = spawnSync('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`psql ${sql} failed: ${r.stderr}`)
}

function manage(ROOT, env, args) {
  const r = spawnSync(python(ROOT), ['manage.py', ...args], { cwd: project(ROOT), env: { ...process.env, ...env }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`manage.py ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`)
  return r.stdout
}

/** A fresh database, migrated and seeded with the demo LMS; the administrator's credentials. */
export function demoEnv({ ROOT, parseCredentials }) {
  const dir = mkdtempSync(join(tmpdir(), 'bu-django-'))
  const outbox = join(dir, 'outbox')
  const name = `bu_django_${randomBytes(6).toString('hex')}`
  psql(`CREATE DATABASE ${name}`)
  const env = { DATABASE_URL: databaseUrl(name) }
  try {
    manage(ROOT, env, ['migrate', '-v', '0'])
    const creds = parseCredentials(manage(ROOT, env, ['seed_demo']))
    return {
      dir,
      outbox,
      databaseUrl: env.DATABASE_URL,
      ...creds,
      cleanup: () => {
        rmSync(dir, { recursive: true, force: true })
        psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      },
    }
  } catch (e) {
    psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    throw e
  }
}

/** `manage.py runserver` (and a Celery worker with Redis), waited for until it answers. */
export async function startServer(env, { port, extraEnv = {}, args = [] }, { ROOT }) {
  const base = `http://127.0.0.1:${port}`
  // `bulk-upload serve`'s options the tests give, as the example's settings read them.
  const options = {}
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] !== '--max-file-bytes') throw new Error(`the django target does not take ${args[i]}`)
    options.BULK_UPLOAD_MAX_FILE_BYTES = args[i + 1]
  }
  const serverEnv = {
    ...extraEnv,
    ...options,
    DATABASE_URL: env.databaseUrl,
    SITE_URL: `${base}${PREFIX}`,
    EMAIL_OUTBOX: env.outbox,
    CELERY_BROKER_URL: process.env.LBU_REDIS_URL ?? '',
    PYTHONUNBUFFERED: '1',
  }
  const children = [spawn(python(ROOT), ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'], { cwd: project(ROOT), env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] })]
  if (serverEnv.CELERY_BROKER_URL) {
    children.push(spawn(python(ROOT), ['-m', 'celery', '-A', 'django_lms', 'worker', '--pool=threads', '--concurrency=2', '--loglevel=WARNING'], { cwd: project(ROOT), env: serverEnv, stdio: ['ignore', 'pipe', 'pipe'] }))
  }
  let log = ''
  let exited = null
  for (const child of children) {
    child.stdout.on('data', (d) => (log += d))
    child.stderr.on('data', (d) => (log += d))
    child.on('exit', (code, signal) => (exited ??= { code, signal }))
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited) throw new Error(`the Django LMS exited (${JSON.stringify(exited)}):\n${log}`)
    try {
      const res = await fetch(`${base}${PREFIX}/api/session`)
      if (res.status === 401 || res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      for (const child of children) child.kill('SIGKILL')
      throw new Error(`the Django LMS did not answer in time:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    base,
    port,
    child: children[0],
    log: () => log,
    async stop(signal = 'SIGTERM') {
      await Promise.all(
        children.map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return null
          const gone = new Promise((r) => child.once('exit', r))
          child.kill(signal)
          return gone
        }),
      )
    },
  }
}
