// The browser suite's target `django` (BULK_UPLOAD_TARGET=django): the example Django LMS of
// examples/python/django_lms, with the screens mounted at /admin/bulk-upload/, on a fresh
// PostgreSQL database per test file, its emails as .eml files in the outbox. Runs execute on
// a Celery worker (started beside the server) when LBU_REDIS_URL is set, else on a thread of
// the web process.
import { join } from 'node:path'
import { optionsEnv, runToEnd, seededEnv, startAll } from './common.mjs'

export const PREFIX = '/admin/bulk-upload'

const python = (ROOT) => process.env.BULK_UPLOAD_PYTHON ?? join(ROOT, '.venv/bin/python')
const project = (ROOT) => join(ROOT, 'examples/python/django_lms')

/** A fresh database, migrated and seeded with the demo LMS; the administrator's credentials. */
export function demoEnv({ ROOT, parseCredentials }) {
  return seededEnv('django', (url) => {
    const manage = (...args) => runToEnd(python(ROOT), ['manage.py', ...args], { cwd: project(ROOT), env: { ...process.env, DATABASE_URL: url } })
    manage('migrate', '-v', '0')
    return manage('seed_demo')
  }, parseCredentials)
}

/** `manage.py runserver` (and a Celery worker with Redis), waited for until it answers. */
export async function startServer(env, { port, extraEnv = {}, args = [] }, { ROOT }) {
  const base = `http://127.0.0.1:${port}`
  const serverEnv = {
    ...extraEnv,
    ...optionsEnv(args),
    DATABASE_URL: env.databaseUrl,
    SITE_URL: `${base}${PREFIX}`,
    EMAIL_OUTBOX: env.outbox,
    CELERY_BROKER_URL: process.env.LBU_REDIS_URL ?? '',
    PYTHONUNBUFFERED: '1',
  }
  const options = { cwd: project(ROOT), env: serverEnv }
  const commands = [[python(ROOT), ['manage.py', 'runserver', `127.0.0.1:${port}`, '--noreload'], options]]
  if (serverEnv.CELERY_BROKER_URL) {
    commands.push([python(ROOT), ['-m', 'celery', '-A', 'django_lms', 'worker', '--pool=threads', '--concurrency=2', '--loglevel=WARNING'], options])
  }
  return { port, ...(await startAll(commands, base, PREFIX, 'the Django LMS')) }
}

/** Whether Django's own check (`User.check_password`, its Argon2 hasher) takes the password. */
export function passwordWorks(env, email, password, { ROOT }) {
  const code = 'import os\nfrom django.contrib.auth import get_user_model\n' +
    'user = get_user_model().objects.get(email__iexact=os.environ["LBU_EMAIL"])\n' +
    'print("yes" if user.check_password(os.environ["LBU_PASSWORD"]) else "no")'
  const out = runToEnd(python(ROOT), ['manage.py', 'shell', '-c', code], {
    cwd: project(ROOT),
    env: { ...process.env, DATABASE_URL: env.databaseUrl, LBU_EMAIL: email, LBU_PASSWORD: password },
  })
  return out.trim().split('\n').pop() === 'yes'
}
