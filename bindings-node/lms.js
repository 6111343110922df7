'use strict'
// The public entry point of the `lms-bulk-upload` package.
//
// The engine is the Rust core, loaded through the napi-rs addon (`index.js`, generated).
// This file only adapts it to JavaScript: camelCase objects, error classes with a `code`,
// Promises, `AbortSignal`, and the bridge that lets a host's own store, mailer and journal
// (plain objects whose methods return values or Promises) be called from the engine's
// worker thread. All behaviour lives in the core.

const fs = require('node:fs')
const native = require('./index.js')

// ---- Errors -------------------------------------------------------------------------------

const PREFIX = 'LMS_BULK_UPLOAD_ERROR:'

/** The base class of every error the engine throws; `code` is stable, never the message. */
class BulkUploadError extends Error {
  constructor(message, { code, kind, line = null, column = null, transient = false } = {}) {
    super(message)
    this.name = new.target.name
    /** Stable snake_case code (see `issueCodes()`). */
    this.code = code
    /** `'file' | 'settings' | 'plan' | 'store' | 'mailer'`. */
    this.kind = kind
    /** 1-based line of the file, when the error has one. */
    this.line = line
    /** Canonical column name, when the error has one. */
    this.column = column
    /** Whether trying again may succeed (a host failure marked transient). */
    this.transient = transient
  }
}
/** The file cannot be used (`parse`). */
class FileError extends BulkUploadError {}
/** The settings are contradictory or incomplete, or name things that do not exist. */
class SettingsError extends BulkUploadError {}
/** A plan cannot be read, was tampered with, or cannot be executed as given. */
class PlanError extends BulkUploadError {}
/** The host's store failed while planning (or committing). */
class StoreError extends BulkUploadError {}
/** The host's mailer failed outside a row. */
class MailerError extends BulkUploadError {}

const ERROR_CLASSES = {
  file: FileError,
  settings: SettingsError,
  plan: PlanError,
  store: StoreError,
  mailer: MailerError,
}

/** Turns a native error carrying a payload into its class; other errors pass unchanged. */
function convertError(error) {
  if (!error || typeof error.message !== 'string' || !error.message.startsWith(PREFIX)) {
    return error
  }
  const payload = JSON.parse(error.message.slice(PREFIX.length))
  const Class = ERROR_CLASSES[payload.kind] || BulkUploadError
  return new Class(payload.message, payload)
}

function guard(fn) {
  try {
    return fn()
  } catch (error) {
    throw convertError(error)
  }
}

async function guardAsync(promise) {
  try {
    return await promise
  } catch (error) {
    throw convertError(error)
  }
}

// ---- Helpers ------------------------------------------------------------------------------

const HANDLE = Symbol('lms-bulk-upload.handle')
const CHUNK = 4096

function* chunkedRows(handle, length) {
  for (let start = 0; start < length; start += CHUNK) {
    yield* JSON.parse(handle.rowsJson(start, Math.min(length, start + CHUNK)))
  }
}

function rowAt(handle, length, index) {
  if (!Number.isInteger(index) || index < 0 || index >= length) return undefined
  return JSON.parse(handle.rowsJson(index, index + 1))[0]
}

function optionsJson(options, what) {
  if (options === undefined || options === null) return undefined
  if (typeof options !== 'object') throw new TypeError(`${what} must be an object`)
  return JSON.stringify(options)
}

function messageOf(error) {
  if (error instanceof Error) return error.message || error.name
  if (error && typeof error.message === 'string') return error.message
  return String(error)
}

// JSON with BigInt ids (some database drivers return them) written as text, and a `Map`
// (a journal's entries by line) written as an object.
function toJson(value) {
  return JSON.stringify(value === undefined ? null : value, (_, v) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Map) return Object.fromEntries(v)
    return v
  })
}

// ---- parse --------------------------------------------------------------------------------

function toBytes(input) {
  if (Buffer.isBuffer(input)) return input
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  if (input instanceof ArrayBuffer) return Buffer.from(input)
  if (typeof input === 'string') return Buffer.from(input, 'utf8')
  if (input instanceof URL) return fs.readFileSync(input)
  if (input && typeof input === 'object' && typeof input.path === 'string') {
    return fs.readFileSync(input.path)
  }
  throw new TypeError('parse() takes a Buffer, a Uint8Array, CSV text, a file URL or { path }')
}

/**
 * Parses and validates an upload file.
 *
 * `input`: the file's bytes (`Buffer`, `Uint8Array`), its text (a string is CSV content,
 * never a path), or a file given as a `URL` or `{ path }`. Throws a `FileError` when the
 * file is unusable; row problems are `upload.issues`.
 */
function parse(input, options) {
  const bytes = toBytes(input)
  return guard(() => new Upload(native.parseBytes(bytes, optionsJson(options, 'parse options'))))
}

/** Reads a file without blocking and parses it on a worker thread. */
async function parseFile(path, options) {
  const bytes = await fs.promises.readFile(path)
  const handle = await guardAsync(native.parseBytesAsync(bytes, optionsJson(options, 'parse options')))
  return new Upload(handle)
}

/** A parsed, validated file. Rows stay native until asked for. */
class Upload {
  constructor(handle) {
    if (!(handle instanceof native.UploadHandle)) {
      throw new TypeError('an Upload comes from parse() or parseFile()')
    }
    Object.defineProperty(this, HANDLE, { value: handle })
  }
  /** Data rows (blank lines are not rows). */
  get length() {
    return this[HANDLE].length
  }
  /** Every row `{line, values, addGroups, removeGroups, valid, issues}` (converted once, then kept). */
  get rows() {
    if (!this._rows) {
      Object.defineProperty(this, '_rows', { value: [...chunkedRows(this[HANDLE], this.length)] })
    }
    return this._rows
  }
  /** The row at `index` (0-based), or undefined. */
  row(index) {
    return rowAt(this[HANDLE], this.length, index)
  }
  /** Iterates the rows without converting them all at once. */
  *[Symbol.iterator]() {
    yield* chunkedRows(this[HANDLE], this.length)
  }
  /** Every issue `{code, severity, line, column, message}`, file-level first, then by line. */
  get issues() {
    if (!this._issues) Object.defineProperty(this, '_issues', { value: JSON.parse(this[HANDLE].issuesJson()) })
    return this._issues
  }
  /** Rows without errors. */
  get validRows() {
    return this[HANDLE].validCount
  }
  /** Whether any issue is an error. */
  get hasErrors() {
    return this[HANDLE].hasErrors
  }
  /** `{encoding, delimiter, header, rows, validRows, issues}`: what the validation screen shows. */
  report() {
    return JSON.parse(this[HANDLE].reportJson())
  }
}

// ---- Settings -----------------------------------------------------------------------------

/** Validated settings. Throws a `SettingsError` with a `code` on a contradiction. */
class Settings {
  constructor(options = {}) {
    const json = optionsJson(options, 'settings') ?? '{}'
    Object.defineProperty(this, HANDLE, { value: guard(() => new native.SettingsHandle(json)) })
  }
  /** The settings, camelCase; a default password shows as `'[REDACTED]'`. */
  toJSON() {
    return JSON.parse(this[HANDLE].toJsonString())
  }
}

function toSettings(settings) {
  return settings instanceof Settings ? settings : new Settings(settings ?? {})
}

// ---- Host store, mailer and journal ----------------------------------------------------------------

const PLAN_METHODS = ['findUsers', 'findGroups', 'findContent']
const WRITE_METHODS = ['createUser', 'updateProfile', 'setPassword', 'addToGroup', 'removeFromGroup', 'enrol']
const OPTIONAL = { allGroupNames: [], checkpoint: null }

function requireMethods(target, methods, what) {
  if (!target || (typeof target !== 'object' && typeof target !== 'function')) {
    throw new TypeError(`${what} must be an object`)
  }
  const missing = methods.filter((m) => typeof target[m] !== 'function')
  if (missing.length) {
    throw new TypeError(`${what} lacks the method${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  }
}

/**
 * `(method, argsJson) => Promise<envelopeJson>`: what the engine's worker calls, through a
 * napi ThreadsafeFunction, for each store, mailer or journal method. It never rejects: a thrown error
 * or a rejected Promise becomes `{error, transient}`, which fails the row with its message.
 */
function bridge(target) {
  return async function callHost(method, argsJson) {
    try {
      const fn = target[method]
      if (typeof fn !== 'function') {
        if (method in OPTIONAL) return toJson({ ok: OPTIONAL[method] })
        throw new Error(`the host object has no method ${method}`)
      }
      const value = await fn.apply(target, JSON.parse(argsJson))
      return toJson({ ok: value === undefined ? null : value })
    } catch (error) {
      return toJson({ error: messageOf(error), transient: Boolean(error && error.transient) })
    }
  }
}

function storeArgs(store, methods) {
  if (store instanceof MemoryStore) return [store[HANDLE], undefined]
  requireMethods(store, methods, 'the store')
  return [undefined, bridge(store)]
}

function mailerArgs(mailer) {
  if (mailer instanceof RecordingMailer) return [mailer[HANDLE], undefined]
  requireMethods(mailer, ['send'], 'the mailer')
  return [undefined, bridge(mailer)]
}

const JOURNAL_METHODS = ['load', 'begin', 'finish']

function journalArgs(journal) {
  if (journal === undefined || journal === null) return [undefined, undefined]
  if (journal instanceof MemoryJournal) return [journal[HANDLE], undefined]
  requireMethods(journal, JOURNAL_METHODS, 'the journal')
  return [undefined, bridge(journal)]
}

// ---- plan ---------------------------------------------------------------------------------

/**
 * Builds the plan: what will happen to every row. Reads the store (batched lookups), writes
 * nothing. Runs off the JavaScript thread; the store's methods may return Promises.
 */
async function plan(upload, settings, store, options = {}) {
  if (!(upload instanceof Upload)) throw new TypeError('plan() takes an Upload from parse()')
  const native_settings = toSettings(settings)[HANDLE]
  const [memory, storeBridge] = storeArgs(store, PLAN_METHODS)
  const { lookupBatch, ...rest } = options
  const unknown = Object.keys(rest)
  if (unknown.length) throw new TypeError(`unknown plan option ${unknown.join(', ')}`)
  const handle = await guardAsync(
    native.planAsync(upload[HANDLE], native_settings, memory, storeBridge, lookupBatch),
  )
  return new Plan(handle)
}

/** A deterministic plan: shown, stored, approved, executed later or elsewhere. */
class Plan {
  constructor(handle) {
    if (!(handle instanceof native.PlanHandle)) {
      throw new TypeError('a Plan comes from plan() or Plan.fromJSON()')
    }
    Object.defineProperty(this, HANDLE, { value: handle })
  }
  /**
   * Reads a plan back (a JSON string, or the object `toJSON()` gave), refusing another
   * format version (`unsupported_plan_version`) or altered content (`fingerprint_mismatch`).
   */
  static fromJSON(json, { defaultPassword } = {}) {
    const text = typeof json === 'string' ? json : JSON.stringify(json)
    return new Plan(guard(() => native.PlanHandle.fromJson(text, defaultPassword)))
  }
  /** `sha256:<hex>` of the plan's canonical content. */
  get fingerprint() {
    return this[HANDLE].fingerprint
  }
  /** The counts `{rows, rejected, create, update, unchanged, profileUpdates, passwords, ...}`. */
  get summary() {
    return JSON.parse(this[HANDLE].summaryJson())
  }
  /** One entry per data row `{line, email, firstName, lastName, action, userId, operations, noops, issues}`. */
  get rows() {
    return [...chunkedRows(this[HANDLE], this[HANDLE].length)]
  }
  /** The settings the plan was made with (no password). */
  get settings() {
    return JSON.parse(this[HANDLE].settingsJson())
  }
  /** File-level issues (warnings). */
  get fileIssues() {
    return JSON.parse(this[HANDLE].fileIssuesJson())
  }
  /** The plan in its language-neutral JSON form (snake_case keys), for `JSON.stringify`. */
  toJSON() {
    return JSON.parse(this[HANDLE].toJsonString())
  }
  /** The plan's JSON text, byte-identical for the same inputs in every language. */
  toJSONString() {
    return this[HANDLE].toJsonString()
  }
  /** Executes the plan: see `execute()`. */
  execute(store, mailer, options) {
    return execute(this, store, mailer, options)
  }
}

// ---- execute ------------------------------------------------------------------------------

const EXECUTE_OPTIONS = ['defaultPassword', 'hashParams', 'threads', 'batchSize', 'retries', 'retryDelayMs', 'templates']

/**
 * Executes a plan through the store and the mailer, off the JavaScript thread.
 *
 * Options: `defaultPassword` (for a plan read back from JSON), `hashParams`
 * `{memoryKib, iterations, parallelism}`, `threads`, `batchSize`, `retries`,
 * `retryDelayMs`, `onProgress({done, total, failed})`, `signal` (an `AbortSignal`: stops
 * between rows; the rest are `failed` with the code `cancelled`), `journal` (a `MemoryJournal` or an
 * object with `load`, `begin`, `finish`: executing the same plan again with it resumes),
 * `templates` (`{welcome, welcomeWithPassword, passwordChanged,
 * passwordChangedWithPassword, uploadComplete}`, any of them, each `{subject, text, html}`).
 */
async function execute(plan, store, mailer, options = {}) {
  if (!(plan instanceof Plan)) throw new TypeError('execute() takes a Plan')
  const { onProgress, signal, journal, ...rest } = options
  const unknown = Object.keys(rest).filter((k) => !EXECUTE_OPTIONS.includes(k))
  if (unknown.length) throw new TypeError(`unknown execute option ${unknown.join(', ')}`)
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError('onProgress must be a function')
  }
  const [memory, storeBridge] = storeArgs(store, [...PLAN_METHODS, ...WRITE_METHODS])
  const [recording, mailerBridge] = mailerArgs(mailer)
  const [memoryJournal, journalBridge] = journalArgs(journal)
  let warned = false
  const progress = onProgress
    ? (done, total, failed) => {
        try {
          onProgress({ done, total, failed })
        } catch (error) {
          // A throwing progress callback must not take the process down; report it once.
          if (!warned) process.emitWarning(`lms-bulk-upload: onProgress threw: ${messageOf(error)}`)
          warned = true
        }
      }
    : undefined
  let token
  let onAbort
  if (signal) {
    token = new native.CancelToken()
    if (signal.aborted) token.cancel()
    onAbort = () => token.cancel()
    signal.addEventListener('abort', onAbort, { once: true })
  }
  try {
    // The native call checks the options (templates included) before any work starts and
    // throws at once when they are wrong: convert that error as well as a rejection.
    const pending = guard(() =>
      plan[HANDLE].execute(
        memory,
        storeBridge,
        recording,
        mailerBridge,
        JSON.stringify(rest),
        progress,
        token,
        memoryJournal,
        journalBridge,
      ),
    )
    const handle = await guardAsync(pending)
    return new Results(handle)
  } finally {
    if (signal) signal.removeEventListener('abort', onAbort)
  }
}

/** What execution did, row by row. */
class Results {
  constructor(handle) {
    if (!(handle instanceof native.ResultsHandle)) throw new TypeError('Results come from execute()')
    Object.defineProperty(this, HANDLE, { value: handle })
  }
  /** The fingerprint of the plan that was executed. */
  get fingerprint() {
    return this[HANDLE].fingerprint
  }
  /** `{rows, created, updated, unchanged, rejected, failed, emailsSent, resumed}`. */
  get summary() {
    return JSON.parse(this[HANDLE].summaryJson())
  }
  /** `[{line, email, status, userId, done, error}]`: `done` lists `{op, ...}` objects,
   * `error` is null or `{code, message}`. */
  get rows() {
    return [...chunkedRows(this[HANDLE], this[HANDLE].length)]
  }
  /** Whether execution was cancelled before the end. */
  get cancelled() {
    return this[HANDLE].cancelled
  }
  /** Why the confirmation email was not sent (`{code, message}`), or null. */
  get confirmationError() {
    const error = this[HANDLE].confirmationError
    return error == null ? null : JSON.parse(error)
  }
  /** CSV `line,email,status,user_id,done,error`, cells neutralised against formula injection. */
  toCSV() {
    return this[HANDLE].toCsv()
  }
  /** The results in their language-neutral JSON form (snake_case keys), for `JSON.stringify`. */
  toJSON() {
    return JSON.parse(this[HANDLE].toJsonString())
  }
  /** The results' JSON text. */
  toJSONString() {
    return this[HANDLE].toJsonString()
  }
}

// ---- Test doubles -------------------------------------------------------------------------

/** A store in memory, for tests, examples and demos. */
class MemoryStore {
  /** `state`: `{groups: [{id, name}], content: [{kind, id}], users: [{id, email, firstName, ...}]}`. */
  constructor(state) {
    const json = state === undefined ? undefined : JSON.stringify(state)
    Object.defineProperty(this, HANDLE, { value: guard(() => new native.MemoryStoreHandle(json)) })
  }
  /** The store as data: groups, content and users (sorted by email; `hasPassword`, no hashes). */
  state() {
    return JSON.parse(this[HANDLE].stateJson())
  }
  /** Calls made so far, by snake_case method name (to check batching). */
  calls() {
    return JSON.parse(this[HANDLE].callsJson())
  }
  addGroup(id, name) {
    this[HANDLE].addGroup(String(id), String(name))
    return this
  }
  addContent({ kind, id }) {
    guard(() => this[HANDLE].addContent(String(kind), String(id)))
    return this
  }
  /** Adds an existing user `{id, email, profile: {firstName, ...}, groups, enrolments, protected}`. */
  addUser(user) {
    guard(() => this[HANDLE].addUser(JSON.stringify(user)))
    return this
  }
  /** Whether `password` is the one stored (argon2id) for the user with `email`. */
  verifyPassword(email, password) {
    return this[HANDLE].verifyPassword(String(email), String(password))
  }
}

/** A mailer that keeps every message: `{kind, to, subject, text, html, fields}`. */
class RecordingMailer {
  constructor() {
    Object.defineProperty(this, HANDLE, { value: new native.RecordingMailerHandle() })
  }
  /** The messages sent so far, in order. */
  get messages() {
    return JSON.parse(this[HANDLE].messagesJson())
  }
  /** Forgets the messages. */
  clear() {
    this[HANDLE].clear()
  }
}

/**
 * A journal in memory: give the same one to `execute()` again to resume a cancelled or
 * failed execution of the same plan (within this process; a host whose store commits in
 * transactions keeps its own journal in the same transaction).
 */
class MemoryJournal {
  constructor() {
    Object.defineProperty(this, HANDLE, { value: new native.MemoryJournalHandle() })
  }
}

/** Every issue and error code `{code, severity, meaning}`. */
function issueCodes() {
  return JSON.parse(native.issueCodesJson())
}

module.exports = {
  parse,
  parseFile,
  plan,
  execute,
  issueCodes,
  Upload,
  Settings,
  Plan,
  Results,
  MemoryStore,
  RecordingMailer,
  MemoryJournal,
  BulkUploadError,
  FileError,
  SettingsError,
  PlanError,
  StoreError,
  MailerError,
}
