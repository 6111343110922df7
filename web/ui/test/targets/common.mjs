// What the framework targets share: a fresh PostgreSQL database per test file (on
// LBU_PG_URL's server), the server's processes started and waited for, stopped together.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const PG = process.env.LBU_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

function psql(sql) {
  const r = spawnSync('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`psql ${sql} failed: ${r.stderr}`)
}

/** A new database: its URL and how to drop it. */
export function freshDatabase(prefix) {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`
  psql(`CREATE DATABASE ${name}`)
  const url = new URL(PG)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

/**
 * A test file's LMS: a temporary folder (the outbox in it) and a fresh database that
 * `seed(databaseUrl)` fills, printing the administrator's credentials; `cleanup` removes both.
 */
export function seededEnv(name, seed, parseCredentials) {
  const dir = mkdtempSync(join(tmpdir(), `bu-${name}-`))
  const db = freshDatabase(`bu_${name}`)
  try {
    const creds = parseCredentials(seed(db.url))
    const cleanup = () => {
      rmSync(dir, { recursive: true, force: true })
      db.drop()
    }
    return { dir, outbox: join(dir, 'outbox'), databaseUrl: db.url, ...creds, cleanup }
  } catch (e) {
    db.drop()
    throw e
  }
}

/** Runs a command to its end; its output (throws when it fails). */
export function runToEnd(command, args, options) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options })
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`)
  return r.stdout
}

/** Starts `commands` ([command, args, options]...) and waits until `${base}${prefix}/api/session` answers. */
export async function startAll(commands, base, prefix, what) {
  const children = commands.map(([command, args, options]) => spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }))
  let log = ''
  let exited = null
  for (const child of children) {
    child.stdout.on('data', (d) => (log += d))
    child.stderr.on('data', (d) => (log += d))
    child.on('exit', (code, signal) => (exited ??= { code, signal }))
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited) throw new Error(`${what} exited (${JSON.stringify(exited)}):\n${log}`)
    try {
      const res = await fetch(`${base}${prefix}/api/session`)
      if (res.status === 401 || res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      for (const child of children) child.kill('SIGKILL')
      throw new Error(`${what} did not answer in time:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    base,
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

/** `bulk-upload serve`'s options the tests give, as the examples read them from the environment. */
export function optionsEnv(args) {
  const env = {}
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] !== '--max-file-bytes') throw new Error(`a framework target does not take ${args[i]}`)
    env.BULK_UPLOAD_MAX_FILE_BYTES = args[i + 1]
  }
  return env
}
