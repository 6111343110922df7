'use strict'
// The public entry point of the `lms-bulk-upload` package: the Rust core, loaded through the
// napi-rs addon (`index.js`, generated), adapted to JavaScript — error classes, Promises,
// `AbortSignal`, rows read in slices, and the bridge through which the engine's worker thread
// calls a host's own store, mailer and journal. Options, settings and host replies go to the
// core as JSON, which decodes and checks them; what comes back is its JSON, keys camelCase.

const fs = require('node:fs')
const native = loadNative()

/** napi-rs's name of a target triple's platform: `x86_64-unknown-linux-gnu` is `linux-x64-gnu`. */
function platformOf(triple) {
  const [arch, , os, abi] = triple.split('-')
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }[arch] ?? arch
  if (os === 'darwin') return `darwin-${cpu}`
  return `${{ windows: 'win32' }[os] ?? os}-${cpu}-${abi}`
}

/**
 * The napi-rs loader (`index.js`, generated) finds the addon of this platform: a file next
 * to it (a build from the repository) or the platform package npm installed as an optional
 * dependency (`lms-bulk-upload-linux-x64-gnu`...). When there is none, say which platform
 * this is and which ones have a package, instead of the loader's guess about npm.
 */
function loadNative() {
  try {
    return require('./index.js')
  } catch (error) {
    const libc = process.platform !== 'linux' ? '' : process.report?.getReport?.().header?.glibcVersionRuntime ? '-gnu' : '-musl'
    const platform = `${process.platform}-${process.arch}${libc}`
    const built = (require('./package.json').napi?.targets ?? []).map(platformOf)
    const missing = new Error(
      `lms-bulk-upload has no native library for this platform (${platform}, Node ${process.version}). ` +
        `Packages exist for ${built.join(', ')}: npm installs the one that fits as an optional dependency ` +
        '(unless optional dependencies are omitted). Elsewhere, build it from the source repository (make test-node; needs Rust).',
    )
    missing.code = 'LMS_BULK_UPLOAD_NO_NATIVE_LIBRARY'
    missing.cause = error
    throw missing
  }
}

// ---- Errors -------------------------------------------------------------------------------

/**
 * The base class of every error the engine throws: `code` (stable, snake_case, listed by
 * `issueCodes()`; match it, never the message), `kind` (`'file' | 'settings' | 'plan' |
 * 'store' | 'mailer'`: one subclass each), `message` (for people), `line` and `column`
 * (where the file has one), `transient` (whether trying again may succeed). `String(error)`
 * is `line 3: emailaddress: message [code]` (the place when there is one), as in every
 * language.
 */
class BulkUploadError extends Error {
  constructor(message, { code, kind, line = null, column = null, transient = false } = {}) {
    super(message)
    this.name = new.target.name
    Object.assign(this, { code, kind: kind ?? new.target.kind ?? 'error', line, column, transient })
  }
  toString() {
    const place = `${this.line != null ? `line ${this.line}: ` : ''}${this.column != null ? `${this.column}: ` : ''}`
    return `${place}${this.message} [${this.code}]`
  }
}
class FileError extends BulkUploadError { static kind = 'file' } // the file cannot be used (`parse`)
class SettingsError extends BulkUploadError { static kind = 'settings' } // settings or options contradictory, unknown, or naming what does not exist
class PlanError extends BulkUploadError { static kind = 'plan' } // a plan unreadable, tampered with, or not executable as given
class StoreError extends BulkUploadError { static kind = 'store' } // the host's store (or journal) failed, or is not one
class MailerError extends BulkUploadError { static kind = 'mailer' } // the host's mailer failed outside a row, or is not one
class InvitationError extends BulkUploadError { static kind = 'invitation' } // a sign-in link that does not work (unknown, used, expired)

/**
 * Throw it (or any error with `transient = true`) from a host store or mailer method to say
 * that trying again may succeed: the engine retries a bounded number of times.
 */
class TransientError extends Error {
  constructor(message) {
    super(message)
    this.name = 'TransientError'
    this.transient = true
  }
}

/** The class of each error kind of the core. */
const ERROR_CLASSES = { file: FileError, settings: SettingsError, plan: PlanError, store: StoreError, mailer: MailerError, invitation: InvitationError }
const PREFIX = 'LMS_BULK_UPLOAD_ERROR:'

/** Turns a native error carrying a core error into its class; other errors pass unchanged. */
function convertError(error) {
  if (typeof error?.message !== 'string' || !error.message.startsWith(PREFIX)) return error
  const fields = JSON.parse(error.message.slice(PREFIX.length))
  return new (ERROR_CLASSES[fields.kind] ?? BulkUploadError)(fields.message, fields)
}

/** Calls `fn`, converting what it throws or what its Promise rejects with. */
function guard(fn) {
  try {
    const value = fn()
    return value instanceof Promise ? value.catch((error) => Promise.reject(convertError(error))) : value
  } catch (error) {
    throw convertError(error)
  }
}

// ---- Values crossing the boundary -----------------------------------------------------------

const HANDLE = Symbol('lms-bulk-upload.handle')
const CHUNK = 4096

const own = (target, handle) => Object.defineProperty(target, HANDLE, { value: handle })

/** Getters of `Class` for `keys`, each `read(handle, key)`. */
function getters(Class, keys, read) {
  for (const key of keys) Object.defineProperty(Class.prototype, key, { get() { return read(this[HANDLE], key) } })
}
const head = (handle, key) => JSON.parse(handle.headJson())[key] // everything but the rows

function* chunkedRows(handle) {
  for (let start = 0; start < handle.length; start += CHUNK) {
    yield* JSON.parse(handle.rowsJson(start, Math.min(handle.length, start + CHUNK)))
  }
}

/**
 * JSON for the core: a BigInt (some database drivers give them) as its digits, a `Map` as an
 * object. A value that contains itself (or nests too deep for `JSON.stringify`) is a
 * `SettingsError` with the code `invalid_option`; the core refuses nesting deeper than 128.
 */
function toJson(value) {
  try {
    return JSON.stringify(value ?? null, (_, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Map ? Object.fromEntries(v) : v))
  } catch (error) {
    const message = `a value cannot be converted: ${error?.message ?? error}`
    throw new SettingsError(message, { code: 'invalid_option', kind: 'settings' })
  }
}

/**
 * A host object (store, mailer, journal) as the engine calls it, through a napi
 * ThreadsafeFunction: `(method, null)` answers whether the object has the method;
 * `(method, argsJson)` calls it, awaits it, and answers `{ok: reply}` or, when it throws or
 * rejects, `{error, transient}`. It never rejects; the core reads and checks the answers.
 */
function bridge(host) {
  return async function callHost(method, argsJson) {
    if (argsJson == null) return String(typeof host?.[method] === 'function')
    let reply
    try {
      reply = await host[method](...JSON.parse(argsJson))
    } catch (error) {
      const message = typeof error?.message === 'string' ? error.message : String(error)
      return toJson({ error: message, transient: error?.transient === true })
    }
    try {
      return toJson({ ok: reply })
    } catch (error) {
      return toJson({ error: error.message, unreadable: true }) // the core: invalid_host_reply
    }
  }
}

/** `[nativeHandle, undefined]` for the package's own double, else `[undefined, bridge]`. */
function side(value, Native) {
  return value instanceof Native ? [value[HANDLE], undefined] : [undefined, bridge(value)]
}

// ---- parse --------------------------------------------------------------------------------

function toBytes(input) {
  if (Buffer.isBuffer(input)) return input
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  if (input instanceof ArrayBuffer) return Buffer.from(input)
  if (typeof input === 'string') return Buffer.from(input, 'utf8')
  if (input instanceof URL) return fs.readFileSync(input)
  if (typeof input?.path === 'string') return fs.readFileSync(input.path)
  throw new TypeError('parse() takes a Buffer, a Uint8Array, CSV text, a file URL or { path }')
}

/**
 * Parses and validates an upload file: its bytes (`Buffer`, `Uint8Array`), its text (a string
 * is CSV content, never a path), or a file as a `URL` or `{ path }`. Throws a `FileError` when
 * the file is unusable; row problems are `upload.issues`. Options (decoded by the engine):
 * limits, `delimiter`, `groupSeparator`, `clearToken`, `fields` (the host's own profile
 * fields), `loginMethods` (what the `auth` column may name besides `password`), `sheet`
 * (a workbook's sheet by name), `encoding` and `columnAssignments` (columns matched by hand:
 * `{ 1: 'last name', 3: null }`, a header cell's 0-based position to a column or field name,
 * or null to ignore it).
 */
function parse(input, options) {
  const bytes = toBytes(input)
  return new Upload(guard(() => native.parseBytes(bytes, toJson(options))))
}

/**
 * The names of a workbook's sheets (`.xlsx`, `.xls`, `.ods`, recognised by content), in the
 * workbook's order, for the administrator to choose one (`parse(input, { sheet })`); `[]`
 * for a CSV file. Takes what `parse` takes, options included (its limits hold before the
 * workbook is opened); throws a `FileError` when the file cannot be read.
 */
function sheetNames(input, options) {
  const bytes = toBytes(input)
  return guard(() => native.sheetNames(bytes, toJson(options)))
}

/** Reads a file without blocking and parses it on a worker thread. */
async function parseFile(path, options) {
  const bytes = await fs.promises.readFile(path)
  return new Upload(await guard(() => native.parseBytesAsync(bytes, toJson(options))))
}

/**
 * A parsed, validated file: `length` (data rows; blank lines are not rows), `validCount`
 * (rows without errors), `hasErrors`, and what was read (`format`, `sheet`, `encoding`,
 * `delimiter`, `groupSeparator`, `header`). Rows stay native until asked for.
 */
class Upload {
  constructor(handle) {
    if (!(handle instanceof native.UploadHandle)) throw new TypeError('an Upload comes from parse() or parseFile()')
    own(this, handle)
  }
  /** Every row `{line, values, email, firstName, lastName, addGroups, removeGroups, custom, valid, issues}` (converted once, then kept). */
  get rows() {
    if (!this._rows) Object.defineProperty(this, '_rows', { value: [...chunkedRows(this[HANDLE])] })
    return this._rows
  }
  /** The row at `index` (0-based), or undefined. */
  row(index) {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) return undefined
    return JSON.parse(this[HANDLE].rowsJson(index, index + 1))[0]
  }
  /** Iterates the rows without converting them all at once. */
  *[Symbol.iterator]() {
    yield* chunkedRows(this[HANDLE])
  }
  /** Every issue `{code, severity, line, column, message}`, file-level first, then by line. */
  get issues() {
    if (!this._issues) Object.defineProperty(this, '_issues', { value: JSON.parse(this[HANDLE].issuesJson()) })
    return this._issues
  }
  /** `{format, sheet?, encoding, delimiter, header, rows, validRows, issues}`: what the validation screen shows. */
  report() {
    return JSON.parse(this[HANDLE].reportJson())
  }
}
getters(Upload, ['length', 'validCount', 'hasErrors'], (handle, key) => handle[key])
// What was read (`sheet`: null for a CSV).
getters(Upload, ['format', 'sheet', 'encoding', 'delimiter', 'groupSeparator', 'header'], head)

// ---- Settings and plan --------------------------------------------------------------------

/** Validated settings. Throws a `SettingsError` with a `code` on a contradiction. */
class Settings {
  constructor(options = {}) {
    own(this, guard(() => new native.SettingsHandle(toJson(options))))
  }
  /** The settings, camelCase, without the default password (`hasDefaultPassword` says if one is set). */
  toJSON() {
    return JSON.parse(this[HANDLE].toJsonString())
  }
}

/**
 * Builds the plan: what will happen to every row. Reads the store (batched lookups), writes
 * nothing. Runs off the JavaScript thread; the store's methods may return Promises. A plan
 * that needs an optional store method the object lacks (`scopeUsers` and `suspendUser` for
 * `suspendMissingUsers`, `reactivateUser`, `setLoginMethod`) is refused here: a
 * `StoreError`, `host_method_missing`.
 */
async function plan(upload, settings, store, { lookupBatch, ...rest } = {}) {
  if (!(upload instanceof Upload)) throw new TypeError('plan() takes an Upload from parse()')
  if (Object.keys(rest).length) throw new TypeError(`unknown plan option ${Object.keys(rest).join(', ')}`)
  const { [HANDLE]: handle } = settings instanceof Settings ? settings : new Settings(settings ?? {})
  return new Plan(await guard(() => native.planAsync(upload[HANDLE], handle, ...side(store, MemoryStore), lookupBatch)))
}

/**
 * Plans the undo of the upload `results` come from (issue 14), reading the store as it is
 * now, writing nothing: an undo plan, previewed, stored, signed and executed like any other
 * (`undoOf` is the upload's fingerprint). What the upload created is suspended (or deleted
 * with `deleteCreatedUsers`, where the store lets it), groups and enrolments are reversed,
 * profile fields restored; a host store needs the optional `suspendUser`, `deleteUser`,
 * `withdraw` the undo uses (else a `StoreError`, `undo_unsupported`). Options
 * `{deleteCreatedUsers, uploaderEmail, resultsUrl}` are decoded by the engine (an unknown
 * one is a `SettingsError`, `invalid_option`); an undo's own results are refused
 * (`PlanError`, `undo_of_undo`).
 */
async function planUndo(results, store, options) {
  if (!(results instanceof Results)) throw new TypeError('planUndo() takes the Results of an execution')
  return new Plan(await guard(() => native.planUndoAsync(results[HANDLE], ...side(store, MemoryStore), toJson(options))))
}

/**
 * The invited user's id when a sign-in link's token works (the store's `findInvitation`,
 * compared in constant time); an `InvitationError` (`invitation_unknown`, `invitation_used`,
 * `invitation_expired`) otherwise. Does not use the link up. `now`: Unix seconds.
 */
async function verifyInvitation(store, token, { now } = {}) {
  return guard(() => native.verifyInvitationAsync(...side(store, MemoryStore), String(token), false, now))
}

/** `verifyInvitation`, then uses the link up (once; the store drops the user's other links). */
async function redeemInvitation(store, token, { now } = {}) {
  return guard(() => native.verifyInvitationAsync(...side(store, MemoryStore), String(token), true, now))
}

/** What a Plan and Results share: rows read in slices, and the core's own JSON (snake_case keys). */
class Rows {
  /** The number of rows. */
  get length() {
    return this[HANDLE].length
  }
  /** Every row, camelCase. */
  get rows() {
    return [...chunkedRows(this[HANDLE])]
  }
  /** The language-neutral JSON, as an object, for `JSON.stringify`. */
  toJSON() {
    return JSON.parse(this[HANDLE].toJsonString())
  }
  /** The language-neutral JSON text, byte-identical for the same inputs in every language. */
  toJSONString() {
    return this[HANDLE].toJsonString()
  }
}

/**
 * A deterministic plan: shown, stored, approved, executed later or elsewhere. `fingerprint`
 * (`sha256:<hex>` of its content), `summary`, `settings` (no password), `fileIssues`, `rows`
 * (`{line, email, firstName, lastName, action, userId, operations, noops, issues}`),
 * `undoOf` (an undo plan's upload fingerprint, or null), `toJSON()`, `toJSONString()`.
 */
class Plan extends Rows {
  constructor(handle) {
    super()
    if (!(handle instanceof native.PlanHandle)) throw new TypeError('a Plan comes from plan() or Plan.fromJSON()')
    own(this, handle)
  }
  /**
   * Reads a plan back (a JSON string, or the object `toJSON()` gave), refusing another
   * format version (`unsupported_plan_version`) or altered content (`fingerprint_mismatch`).
   */
  static fromJSON(json, { defaultPassword } = {}) {
    const text = typeof json === 'string' ? json : JSON.stringify(json)
    return new Plan(guard(() => native.PlanHandle.fromJson(text, defaultPassword)))
  }
  /**
   * Reads a plan signed with `key` (`plan.toSignedJSON(key)`): every check of `fromJSON`,
   * then the signature (`plan_unsigned`, `plan_signature_invalid`).
   */
  static fromSignedJSON(json, key, { defaultPassword } = {}) {
    if (!(key instanceof PlanKey)) throw new TypeError('Plan.fromSignedJSON() takes a PlanKey')
    const text = typeof json === 'string' ? json : JSON.stringify(json)
    return new Plan(guard(() => native.PlanHandle.fromSignedJson(text, key[HANDLE], defaultPassword)))
  }
  /** The plan's JSON text with a `signature` (HMAC-SHA-256 under `key`): see `PlanKey`. */
  toSignedJSON(key) {
    if (!(key instanceof PlanKey)) throw new TypeError('toSignedJSON() takes a PlanKey')
    return this[HANDLE].toSignedJsonString(key[HANDLE])
  }
  /** Executes the plan: see `execute()`. */
  execute(store, mailer, options) {
    return execute(this, store, mailer, options)
  }
  /**
   * Cuts the plan into shards of `rowsPerShard` rows, each a Plan of its own (see
   * docs/shards.md). A default-password plan needs `defaultPassword`: it is hashed once here
   * (with `hashParams`) and the shards carry only its hash.
   */
  shards(rowsPerShard, { defaultPassword, hashParams, ...rest } = {}) {
    if (Object.keys(rest).length) throw new TypeError(`unknown shards option ${Object.keys(rest).join(', ')}`)
    if (!Number.isInteger(rowsPerShard) || rowsPerShard < 0 || rowsPerShard > 0xffffffff) {
      throw new TypeError('rowsPerShard must be a non-negative integer')
    }
    const params = hashParams === undefined ? undefined : toJson(hashParams)
    return guard(() => this[HANDLE].shards(rowsPerShard, defaultPassword, params)).map((h) => new Plan(h))
  }
  /** Which shard this plan is: `{parent, index, count}`, or `null` for a whole plan. */
  get shard() {
    return JSON.parse(this[HANDLE].shardJson())
  }
}
getters(Plan, ['fingerprint', 'summary', 'settings', 'fileIssues'], head)
// An undo plan: the fingerprint of the upload it reverses (`null` otherwise).
getters(Plan, ['undoOf'], (handle, key) => head(handle, key) ?? null)

/**
 * A host's key for signing plans (HMAC-SHA-256, at least 32 bytes), kept native and zeroed
 * when collected. Store `toHex()` where only the host can read it; `util.inspect`,
 * `String()` and `JSON.stringify` show `PlanKey([REDACTED])`.
 */
class PlanKey {
  constructor(handle) {
    if (!(handle instanceof native.PlanKeyHandle)) throw new TypeError('a PlanKey comes from PlanKey.generate(), fromHex() or fromBytes()')
    own(this, handle)
  }
  /** A fresh 32-byte key from the OS CSPRNG. */
  static generate() {
    return new PlanKey(native.PlanKeyHandle.generate())
  }
  /** A key from its hex form (as `toHex()` wrote it); a `SettingsError` (`invalid_setting`) otherwise. */
  static fromHex(hex) {
    if (typeof hex !== 'string') throw new TypeError('PlanKey.fromHex() takes a string')
    return new PlanKey(guard(() => native.PlanKeyHandle.fromHex(hex)))
  }
  /** A key from raw bytes (`Buffer`, `Uint8Array`), 32 at least (`invalid_setting`). */
  static fromBytes(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('PlanKey.fromBytes() takes a Buffer or a Uint8Array')
    return new PlanKey(guard(() => native.PlanKeyHandle.fromBytes(toBytes(bytes))))
  }
  /** The key as lowercase hex, for the host to store. */
  toHex() {
    return this[HANDLE].toHex()
  }
  toString() {
    return 'PlanKey([REDACTED])'
  }
  toJSON() {
    return 'PlanKey([REDACTED])'
  }
  [Symbol.for('nodejs.util.inspect.custom')]() {
    return 'PlanKey([REDACTED])'
  }
}

// ---- execute ------------------------------------------------------------------------------

/**
 * Executes a plan through the store and the mailer, off the JavaScript thread.
 *
 * Options: those of the core (`defaultPassword`, `hashParams`, `threads`, `batchSize`,
 * `retries`, `retryDelayMs`, `templates`; see the README), and `onProgress({done, total,
 * failed})`, `signal` (an `AbortSignal`: stops between rows), `journal` (a `MemoryJournal`
 * or an object with `load`, `begin`, `finish`: executing the same plan again with it resumes).
 */
async function execute(plan, store, mailer, { onProgress, signal, journal, ...options } = {}) {
  if (!(plan instanceof Plan)) throw new TypeError('execute() takes a Plan')
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('onProgress must be a function')
  let warned = false
  const progress = onProgress && ((done, total, failed) => {
    try {
      onProgress({ done, total, failed })
    } catch (error) {
      // A throwing progress callback must not take the process down; report it once.
      if (!warned) process.emitWarning(`lms-bulk-upload: onProgress threw: ${error?.message ?? error}`)
      warned = true
    }
  })
  const token = signal ? new native.CancelToken() : undefined
  const onAbort = () => token.cancel()
  if (signal?.aborted) token.cancel()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const journalArgs = journal == null ? [] : side(journal, MemoryJournal)
    const args = [...side(store, MemoryStore), ...side(mailer, RecordingMailer), toJson(options), progress, token, ...journalArgs]
    return new Results(await guard(() => plan[HANDLE].execute(...args)))
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * What execution did, row by row: `fingerprint`, `summary`, `rows` (`{line, email, status,
 * userId, done, error}`), `cancelled`, `confirmationError`, `undoOf` (an undo's: the upload's
 * fingerprint, or null), `toCSV()` (cells neutralised against formula injection), `toJSON()`,
 * `toJSONString()`.
 */
class Results extends Rows {
  constructor(handle) {
    super()
    if (!(handle instanceof native.ResultsHandle)) throw new TypeError('Results come from execute()')
    own(this, handle)
  }
  toCSV() {
    return this[HANDLE].toCsv()
  }
  /**
   * Results read back from `toJSONString()` (or the object `toJSON()` gave), e.g. a shard
   * job's. Not `verified`: `planUndo` refuses them (`results_unsigned`) unless the options
   * say `resultsFromTrustedStorage`; prefer `fromSignedJSON`.
   */
  static fromJSON(json) {
    const text = typeof json === 'string' ? json : JSON.stringify(json)
    return new Results(guard(() => native.ResultsHandle.fromJson(text)))
  }
  /**
   * Reads results signed with `key` (`results.toSignedJSON(key)`): every check of
   * `fromJSON`, then the signature (`results_unsigned`, `results_signature_invalid`).
   */
  static fromSignedJSON(json, key) {
    if (!(key instanceof PlanKey)) throw new TypeError('Results.fromSignedJSON() takes a PlanKey')
    const text = typeof json === 'string' ? json : JSON.stringify(json)
    return new Results(guard(() => native.ResultsHandle.fromSignedJson(text, key[HANDLE])))
  }
  /** The results' JSON text with a `signature` (HMAC-SHA-256 under `key`). */
  toSignedJSON(key) {
    if (!(key instanceof PlanKey)) throw new TypeError('toSignedJSON() takes a PlanKey')
    return this[HANDLE].toSignedJsonString(key[HANDLE])
  }
  /** Whether the engine vouches for these results (from `execute`, or `fromSignedJSON`). */
  get verified() {
    return this[HANDLE].verified
  }
  /**
   * The results of every shard of `parent` (each exactly once, any order) merged into the
   * parent's results: rows in the parent's order, counts recounted.
   */
  static merge(parent, resultsList) {
    if (!(parent instanceof Plan)) throw new TypeError('Results.merge() takes the parent Plan')
    if (!Array.isArray(resultsList) || !resultsList.every((r) => r instanceof Results)) {
      throw new TypeError('Results.merge() takes an array of Results')
    }
    return new Results(guard(() => native.ResultsHandle.merge(parent[HANDLE], resultsList.map((r) => r[HANDLE]))))
  }
  /**
   * Sends the uploader's confirmation with these (merged) results' counts, once: the
   * finalising job's call. `mailer`: a `RecordingMailer` or an object with `send` (and
   * optionally `flush`). Resolves with these results, updated (`confirmationError`).
   */
  async sendConfirmation(parent, mailer, { templates, ...rest } = {}) {
    if (Object.keys(rest).length) throw new TypeError(`unknown sendConfirmation option ${Object.keys(rest).join(', ')}`)
    if (!(parent instanceof Plan)) throw new TypeError('sendConfirmation() takes the parent Plan')
    const t = templates === undefined ? undefined : toJson(templates)
    const after = await guard(() => this[HANDLE].sendConfirmation(parent[HANDLE], ...side(mailer, RecordingMailer), t))
    this[HANDLE].adopt(after)
    return this
  }
}
getters(Results, ['fingerprint', 'summary', 'cancelled', 'confirmationError'], head)
// A shard's results: which shard (`null` otherwise), and that its confirmation was left to the finaliser.
getters(Results, ['shard'], (handle, key) => head(handle, key) ?? null)
getters(Results, ['confirmationDeferred'], (handle, key) => head(handle, key) ?? false)
// An undo's results: the fingerprint of the upload it reversed (`null` otherwise).
getters(Results, ['undoOf'], (handle, key) => head(handle, key) ?? null)

// ---- Test doubles -------------------------------------------------------------------------

/** A store in memory, for tests, examples and demos. */
class MemoryStore {
  /** `state`: `{groups: [{id, name}], content: [{kind, id}], users: [{id, email, firstName, ...}]}`. */
  constructor(state) {
    own(this, new native.MemoryStoreHandle(state === undefined ? undefined : toJson(state)))
  }
  /** The store as data: groups, content and users (sorted by email; `hasPassword`, no hashes). */
  state() {
    return JSON.parse(this[HANDLE].stateJson())
  }
  /** Calls made so far, by method name as a JavaScript store spells it (`findUsers`): to check batching. */
  get calls() {
    return JSON.parse(this[HANDLE].callsJson())
  }
  /** The argon2id PHC string of the password of the user with `email`, or `null` if none was set. */
  passwordHash(email) {
    return this[HANDLE].passwordHash(email) ?? null
  }
  addGroup(id, name) {
    this[HANDLE].addGroup(id, name)
    return this
  }
  addContent(content) {
    this[HANDLE].addContent(toJson(content))
    return this
  }
  /** Adds an existing user `{id, email, profile: {firstName, ...}, groups, enrolments, protected}`. */
  addUser(user) {
    this[HANDLE].addUser(toJson(user))
    return this
  }
  /** Whether `password` is the one stored (argon2id) for the user with `email`. */
  verifyPassword(email, password) {
    return this[HANDLE].verifyPassword(email, password)
  }
}

/** A mailer that keeps every message: `{kind, to, subject, text, html, fields}`. */
class RecordingMailer {
  constructor() {
    own(this, new native.RecordingMailerHandle())
  }
  /** The messages sent so far, in order, as a host's mailer gets them. */
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
    own(this, new native.MemoryJournalHandle())
  }
}

/** Every issue and error code `{code, severity, meaning}`. */
const issueCodes = () => JSON.parse(native.issueCodesJson())

/** The identity of an address, as the engine compares them: lowercase, the domain mapped to ASCII by IDNA. */
const emailKey = (email) => native.emailKey(String(email))

/** Whether `password` matches a stored argon2id PHC hash (`$argon2id$v=19$...`). */
const verifyPassword = (phc, password) => native.verifyPassword(String(phc), String(password))

/** The engine's version. */
const version = native.version()
/** The plan format version this engine writes and reads. */
const PLAN_FORMAT_VERSION = native.planFormatVersion()

module.exports = {
  version, PLAN_FORMAT_VERSION, parse, parseFile, sheetNames, plan, planUndo, execute, issueCodes, emailKey, verifyPassword, verifyInvitation, redeemInvitation, Upload, Settings, Plan, PlanKey, Results, MemoryStore, RecordingMailer, MemoryJournal,
  BulkUploadError, FileError, SettingsError, PlanError, StoreError, MailerError, InvitationError, TransientError,
}

// The administrator's screens (web.js), and the bridge it uses (not part of the documented API).
Object.defineProperty(module.exports, '_bridge', { value: bridge })
Object.defineProperty(module.exports, 'WebApi', { enumerable: true, get: () => require('./web.js').WebApi })
