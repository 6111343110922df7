// The browser tests' harness: the real `bulk-upload serve` on a temporary SQLite database and
// outbox (fast, insecure hashing for speed), Debian's Chromium driven by playwright-core,
// axe-core injected from node_modules, screenshots into a temporary folder (into
// docs/screenshots/ only when SCREENSHOTS_DIR names it: `make screenshots`).
//
// BULK_UPLOAD_TARGET names another server for the same tests: `django` (the example Django
// LMS with the screens mounted at /admin/bulk-upload/, targets/django.mjs). A target gives
// `demoEnv()` and `startServer(env, options)` of the same shapes, and its mount point
// (PREFIX): pages are opened and the API called below it, and `appPath` reads a URL back.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, mkdirSync, existsSync, writeFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { test as nodeTest } from 'node:test'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const UI = resolve(here, '..')
export const ROOT = resolve(UI, '../..')
export const DATA = join(here, 'data')
export const BIN = process.env.BULK_UPLOAD_BIN ?? join(ROOT, 'target/debug/bulk-upload')
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
// The screens show times and ids, so a picture differs at every run: the committed ones
// (docs/screenshots/, shown by the README) are rewritten only when asked, so that a test
// run leaves the work tree as it found it.
let screenshots = process.env.SCREENSHOTS_DIR ? resolve(process.env.SCREENSHOTS_DIR) : null
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** The binary's environment: cheap argon2 (allowed by the insecure switch) unless a test
 * asks for a slower hash to make a run last long enough to cancel or kill. */
export function binEnv(extra = {}) {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('BULK_UPLOAD_') && k !== 'BULK_UPLOAD_BIN') delete env[k]
  return {
    ...env,
    BULK_UPLOAD_ARGON2_MEMORY_KIB: '64',
    BULK_UPLOAD_ARGON2_ITERATIONS: '1',
    BULK_UPLOAD_INSECURE_FAST_HASHING: '1',
    ...extra,
  }
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.on('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => ok(port))
    })
  })
}

export const TARGET = process.env.BULK_UPLOAD_TARGET ?? 'rust'
const target = TARGET === 'rust' ? null : await import(`./targets/${TARGET}.mjs`)
/** Where the screens are mounted on the target's site ('' at its root). */
export const PREFIX = target?.PREFIX ?? ''

/** The app path (`/runs/run_1`) of a page's URL or a URL: its path below PREFIX. */
export function appPath(pageOrUrl) {
  const path = new URL(typeof pageOrUrl === 'string' ? pageOrUrl : pageOrUrl.url()).pathname
  if (!PREFIX) return path
  if (path === PREFIX || path === `${PREFIX}/`) return '/'
  return path.startsWith(`${PREFIX}/`) ? path.slice(PREFIX.length) : path
}

/** Whether the target LMS's own sign-in takes this user's password (a framework target's
 * check, through its database); null for the reference server, which has no learners' sign-in. */
export const passwordWorks = target?.passwordWorks ? (env, email, password) => target.passwordWorks(env, email, password, { ROOT }) : null

/** A temp folder with a demo database; returns the demo administrator's credentials. */
export function demoEnv() {
  if (target) return target.demoEnv({ ROOT, parseCredentials })
  const dir = mkdtempSync(join(tmpdir(), 'bu-web-'))
  const db = join(dir, 'lms.sqlite3')
  const outbox = join(dir, 'outbox')
  const r = spawnSync(BIN, ['init', '--demo', '--db', db], { env: binEnv(), encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`init --demo failed (${r.status}): ${r.stderr}${r.stdout}`)
  const creds = parseCredentials(`${r.stdout}\n${r.stderr}`)
  return { dir, db, outbox, ...creds, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The demo administrator's one-time credentials printed by `init --demo`. */
export function parseCredentials(text) {
  const email = /([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})/.exec(text.split('\n').find((l) => /admin/i.test(l) && /@/.test(l)) ?? text)
  const password = /password[^:\n]*:\s*(\S+)/i.exec(text)
  if (!email || !password) throw new Error(`no demo administrator's credentials in: ${text}`)
  return { email: email[1], password: password[1] }
}

/** Starts `bulk-upload serve` and waits until it answers. */
export async function startServer(env, options = {}) {
  const server = await startAny(env, options)
  live.server = server
  return server
}

async function startAny(env, { port, extraEnv = {}, args = [] } = {}) {
  if (target) return target.startServer(env, { port: port ?? (await freePort()), extraEnv: binEnv(extraEnv), args }, { ROOT })
  port ??= await freePort()
  const base = `http://127.0.0.1:${port}`
  const child = spawn(
    BIN,
    ['serve', '--db', env.db, '--listen', `127.0.0.1:${port}`, '--outbox', env.outbox, '--site-url', base, ...args],
    { env: binEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  let exited = null
  child.on('exit', (code, signal) => (exited = { code, signal }))
  const deadline = Date.now() + 20_000
  for (;;) {
    if (exited) throw new Error(`bulk-upload serve exited (${JSON.stringify(exited)}):\n${log}`)
    try {
      const res = await fetch(`${base}/api/session`)
      if (res.status === 401 || res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`bulk-upload serve did not answer in time:\n${log}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    base,
    port,
    child,
    log: () => log,
    async stop(signal = 'SIGTERM') {
      if (exited) return
      const gone = new Promise((r) => child.once('exit', r))
      child.kill(signal)
      await gone
    },
  }
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
}

/** A page that records script errors, CSP violations and any dialog (alert) it sees. */
export async function newPage(browser, base) {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    locale: 'en-NZ',
    timezoneId: 'Pacific/Auckland',
  })
  const page = await context.newPage()
  if (PREFIX) {
    // Tests open app paths: below the mount point.
    const goto = page.goto.bind(page)
    page.goto = (u, options) => goto(typeof u === 'string' && u.startsWith('/') && !u.startsWith(`${PREFIX}/`) ? PREFIX + u : u, options)
  }
  page.problems = []
  page.dialogs = []
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.problems.push(`console: ${m.text()}`)
  })
  page.on('dialog', async (d) => {
    page.dialogs.push(d.message())
    await d.dismiss()
  })
  // The page's last API calls, each with its status (or failure) and time taken: what a
  // failing test prints beside its error (see `test`).
  page.calls = []
  const started = new Map()
  const record = (req, outcome) => {
    if (!/\/api\//.test(req.url())) return
    const ms = Date.now() - (started.get(req) ?? Date.now())
    started.delete(req)
    page.calls.push(`${new Date().toISOString().slice(11, 23)} ${req.method()} ${appPath(req.url())} -> ${outcome} in ${ms} ms`)
    if (page.calls.length > 30) page.calls.shift()
  }
  page.on('request', (req) => started.set(req, Date.now()))
  page.on('requestfinished', async (req) => record(req, (await req.response().catch(() => null))?.status() ?? '?'))
  page.on('requestfailed', (req) => record(req, `failed (${req.failure()?.errorText ?? '?'})`))
  page.setDefaultTimeout(15_000)
  live.page = page
  return page
}

// The page and server of the test running now (the last ones made), for `explain`.
const live = { page: null, server: null }

/** What the page and the server were doing: added to a failing test's error. */
async function explain() {
  const { page, server } = live
  const lines = []
  if (page && !page.isClosed()) {
    lines.push(`page: ${page.url()}`)
    const alerts = await page.getByRole('alert').allTextContents().catch(() => [])
    const said = alerts.map((a) => a.trim()).filter(Boolean)
    if (said.length) lines.push(`alerts: ${said.join(' | ')}`)
    if (page.problems.length) lines.push(`problems: ${page.problems.join(' | ')}`)
    lines.push('last API calls:', ...page.calls.map((c) => `  ${c}`))
  }
  if (server) lines.push("server's log (end):", ...server.log().split('\n').slice(-25).map((l) => `  ${l}`))
  return lines.join('\n')
}

/**
 * node:test's `test`, whose failure also says where the page was, what the server's screens
 * said, the last API calls and the server's last log lines: a failure seen once in CI is
 * explained by its own output.
 */
export function test(name, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options]
  return nodeTest(name, options, async (t) => {
    try {
      return await fn(t)
    } catch (e) {
      const context = await explain().catch((x) => `(no context: ${x})`)
      if (e instanceof Error) e.message += `\n--- context ---\n${context}`
      throw e
    }
  })
}

export async function signIn(page, env, path = '/') {
  await page.goto(path)
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.getByLabel('Email').fill(env.email)
  await page.getByLabel('Password').fill(env.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('link', { name: 'History' }).waitFor()
}

/**
 * A test file's world: a fresh demo database and outbox, the real server on it, Chromium and
 * one page, signed in at `signInPath` unless it is `null`. Close it with `closeSession`.
 */
export async function openSession({ serverOptions = {}, signInPath = '/' } = {}) {
  const env = demoEnv()
  const server = await startServer(env, serverOptions)
  const browser = await launch()
  const page = await newPage(browser, server.base)
  if (signInPath !== null) await signIn(page, env, signInPath)
  return { env, server, browser, page }
}

/** Stops what `openSession` started (whatever part of it did start). */
export async function closeSession({ env, server, browser } = {}) {
  await browser?.close()
  await server?.stop()
  env?.cleanup()
}

/** Uploads a file from the upload screen and waits for its validation report. */
export async function upload(page, file) {
  await page.goto('/uploads/new')
  await page.getByLabel('Choose a file').setInputFiles(file)
  await page.getByRole('heading', { name: /^Validation report: / }).waitFor({ timeout: 60_000 })
}

/** axe-core's WCAG 2.1 A/AA rules on the page as it is now; returns the violations. */
export async function axe(page) {
  await page.evaluate(AXE)
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }))
  })
}

export async function assertAccessible(t, page, assert) {
  const violations = await axe(page)
  assert.deepEqual(violations, [], `axe violations on ${page.url()}: ${JSON.stringify(violations, null, 1)}`)
}

export async function screenshot(page, name) {
  screenshots ??= mkdtempSync(join(tmpdir(), 'bu-screenshots-'))
  mkdirSync(screenshots, { recursive: true })
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true, animations: 'disabled', caret: 'hide' })
}

/** The outbox's emails as text (quoted-printable soft breaks undone), oldest first. */
export function outbox(env) {
  if (!existsSync(env.outbox)) return []
  return readdirSync(env.outbox)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => {
      const raw = readFileSync(join(env.outbox, f), 'utf8')
      const text = raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
      return { name: f, text }
    })
}

/** A generated file of `n` users, as the CLI's tests make one. */
export function generatedCsv(dir, n, prefix = 'person') {
  const lines = ['firstname,lastname,emailaddress,country,addgroup']
  for (let i = 0; i < n; i++) lines.push(`Person${i},Tester,${prefix}${i}@example.org,New Zealand,Sales`)
  const file = join(dir, `${prefix}-${n}.csv`)
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}

/** Calls the API with the page's session (cookie and CSRF token). */
export async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body, prefix }) => {
      const s = await (await fetch(`${prefix}/api/session`)).json()
      const res = await fetch(prefix + path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) }
    },
    { method, path, body, prefix: PREFIX },
  )
}

/** Waits until `fn` returns a truthy value (polling), or throws after `ms`. */
export async function until(fn, ms = 30_000, what = 'condition') {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The focused element's role-ish kind and accessible name (aria-label, label, text). */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement
    if (!el || el === document.body) return { tag: 'body', name: '' }
    const name = (el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || el.textContent || '').trim()
    return { tag: el.tagName.toLowerCase(), type: el.getAttribute('type') ?? '', name }
  })
}

/** Presses Tab (Shift+Tab with back) until the focused element's name matches; keyboard only. */
export async function tabTo(page, name, { back = false, max = 80 } = {}) {
  const want = typeof name === 'string' ? (n) => n === name : (n) => name.test(n)
  const seen = []
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const f = await focused(page)
    seen.push(`${f.tag}:${f.name}`)
    if (want(f.name)) return f
  }
  throw new Error(`Tab never reached ${name}; went through: ${seen.join(' | ')}`)
}
