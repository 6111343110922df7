// Types of the public API of `lms-bulk-upload` (lms.js). The native layer it wraps is typed
// by index.d.ts, which `napi build` generates from the Rust sources.

export type Severity = 'error' | 'warning'
export type ErrorKind = 'file' | 'settings' | 'plan' | 'store' | 'mailer' | 'invitation'
export type ContentKind = 'course' | 'collection' | 'campaign'
export type Column =
  | 'firstname' | 'lastname' | 'emailaddress' | 'phonenumber' | 'uniqueid'
  | 'country' | 'organisation' | 'languagecode' | 'addgroup' | 'removegroup' | 'auth'
  | 'course' | 'collection' | 'campaign'

/** One problem: a stable code, a severity, a place and a message. */
export interface Issue {
  code: string
  severity: Severity
  line: number | null
  column: string | null
  message: string
}

export interface CodeInfo {
  code: string
  severity: Severity
  meaning: string
}

/** What a host profile field takes: any text, one of `values`, a `YYYY-MM-DD` date, a number. */
export type ProfileFieldKind = 'text' | 'one_of' | 'date' | 'number'

/**
 * A profile field of the host's own (`parse(..., {fields})`): its column is read and
 * validated like a built-in one (`invalid_field_value`), and its value reaches the store in
 * `profile.custom`. `name`: lowercase letters, digits and `_`, not a built-in column. In
 * `profile.custom` the keys are the field names as declared (`start_date`): never camelCased.
 */
export type ProfileField = {
  name: string
  /** Other headers accepted for the column (matched forgivingly: `Start Date`, `start-date`). */
  aliases?: string[]
  /** A row without a value is rejected (`missing_value`), a file without the column refused. */
  required?: boolean
  /** Longest value in characters (default: `maxValueChars`). */
  maxLength?: number
} & ({ kind?: 'text' | 'date' | 'number'; values?: undefined } | { kind: 'one_of'; values: string[] })

export interface ParseOptions {
  delimiter?: string
  groupSeparator?: string
  maxFileBytes?: number
  maxRows?: number
  maxFieldBytes?: number
  maxColumns?: number
  maxValueChars?: number
  maxIssuesPerRow?: number
  maxIssues?: number
  /** Clears an existing user's optional field (default `'#clear'`, any ASCII case); `''` turns clearing off. */
  clearToken?: string
  /** The host's own profile fields (at most 16; a bad declaration is a `SettingsError`, `invalid_option`). */
  fields?: ProfileField[]
  /** The host's login methods besides the built-in `'password'` (e.g. `['saml']`): what the `auth` column may name. */
  loginMethods?: string[]
  /** For a spreadsheet (`.xlsx`, `.xls`, `.ods`, recognised by content): the sheet to read, by name (default: the first). */
  sheet?: string
  /** The file's encoding when known (`'windows-1250'`, `'shift_jis'`...); default: a BOM, else UTF-8, else the detected code page. */
  encoding?: string
  /**
   * Columns matched by hand: a header cell's 0-based position to the name of a column or declared field (any of its
   * names or aliases), or `null` to ignore the column (`{ 1: 'last name', 3: null }`; a `Map` too). A position past
   * the header, or a name that is no column or declared field, is a `SettingsError` (`invalid_option`).
   */
  columnAssignments?: Record<number, string | null> | Map<number, string | null>
  /** Threads reading the file (0, the default: one per core, at most 16; 1: one pass on the calling thread). The outcome is the same whatever the number. */
  threads?: number
}

export interface Row {
  line: number
  /** By canonical column; `course`, `collection`, `campaign`: the ids the row enrols in (several separated by the group separator). */
  values: Partial<Record<Column, string>>
  /** As written (`''` when absent). */
  email: string
  firstName: string
  lastName: string
  addGroups: string[]
  removeGroups: string[]
  /** The cells of the host's declared profile fields, by field name (empty when none). */
  custom: Record<string, string>
  valid: boolean
  issues: Issue[]
}

export interface FileReport {
  /** What kind of file it was (recognised by content). */
  format: 'csv' | 'xlsx' | 'xls' | 'ods'
  /** The sheet that was read, for a spreadsheet. */
  sheet?: string
  /** `utf-8`, `utf-8-bom`, `utf-16le`, `utf-16be`, or the legacy code page (`windows-1250`, `Shift_JIS`...); `utf-8` for a spreadsheet. */
  encoding: string
  delimiter: string
  /** Each header cell: the built-in column it is, or the host profile field (`field`: its name), or neither (ignored). */
  header: { header: string; column: Column | null; field?: string }[]
  rows: number
  validRows: number
  issues: Issue[]
}

export type UploadInput = Uint8Array | ArrayBuffer | string | URL | { path: string }

export declare function parse(input: UploadInput, options?: ParseOptions): Upload
export declare function parseFile(path: string, options?: ParseOptions): Promise<Upload>
/** A workbook's sheet names in its order (`[]` for a CSV file), to choose `ParseOptions.sheet` from. */
export declare function sheetNames(input: UploadInput, options?: ParseOptions): string[]

export declare class Upload implements Iterable<Row> {
  private constructor()
  readonly length: number
  readonly rows: Row[]
  readonly issues: Issue[]
  readonly validCount: number
  readonly hasErrors: boolean
  readonly format: 'csv' | 'xlsx' | 'xls' | 'ods'
  /** The sheet read, for a spreadsheet; `null` for a CSV. */
  readonly sheet: string | null
  readonly encoding: string
  readonly delimiter: string
  readonly groupSeparator: string
  readonly header: FileReport['header']
  row(index: number): Row | undefined
  report(): FileReport
  [Symbol.iterator](): Iterator<Row>
}

export interface ContentRef {
  kind: ContentKind
  id: string
}

export interface PasswordPolicy {
  minLength?: number
  generatedLength?: number
}

export interface SettingsOptions {
  enrolExistingUsers?: boolean
  updateExistingProfiles?: boolean
  updateExistingPasswords?: boolean
  generatePasswords?: boolean
  defaultPassword?: string | null
  /** Instead of a password, email each user whose password is set a personal single-use sign-in link (needs the notification email; refuses a default password; turns `generatePasswords` off). */
  sendInvitations?: boolean
  /** The sign-in link template, `{token}` as one path segment or query value [default: `<siteUrl>/invitations/{token}`]. */
  invitationUrl?: string | null
  forcePasswordReset?: boolean
  sendNotificationEmail?: boolean
  enrolments?: ContentRef[]
  groups?: string[]
  siteUrl?: string
  resultsUrl?: string
  uploaderEmail?: string | null
  passwordPolicy?: PasswordPolicy
  /** How new users sign in when their row has no `auth` value: `null` (or `'password'`) for a password, or one of `loginMethods`. */
  defaultLoginMethod?: string | null
  /** The file lists everyone: users in the store's `scopeUsers` that it does not name are suspended (never protected ones). */
  suspendMissingUsers?: boolean
  /** With `suspendMissingUsers`: the most users that may be suspended, in percent of those in scope (0 to 100, default 10), else `missing_users_threshold`. */
  missingUsersThreshold?: number
  /** Suspended users in the file are reactivated: only those an upload suspended (the store's `suspendedByUpload`); `updateExistingProfiles` alone never reactivates anyone. Default false. */
  reactivateSuspendedUsers?: boolean
}

export declare class Settings {
  constructor(options?: SettingsOptions)
  /** The settings without the default password: `hasDefaultPassword` says whether one is set. */
  toJSON(): Required<Omit<SettingsOptions, 'passwordPolicy' | 'defaultPassword'>> & {
    passwordPolicy: Required<PasswordPolicy>
    hasDefaultPassword: boolean
  }
}

/** The built-in profile fields. */
export interface BuiltInProfile {
  firstName?: string | null
  lastName?: string | null
  phoneNumber?: string | null
  uniqueId?: string | null
  country?: string | null
  organisation?: string | null
  languageCode?: string | null
}

export interface Profile extends BuiltInProfile {
  /**
   * The host's own fields (`ParseOptions.fields`) by name, as declared (`start_date`: never
   * camelCased); in changes, `''` clears a field. Left out when there are none.
   */
  custom?: Record<string, string>
}

/** A profile as a host's store gives it: custom values may be numbers or null (absent). */
export interface StoredProfile extends BuiltInProfile {
  /** Keys as declared (`start_date`); a number is read as its text, so give a date as `'YYYY-MM-DD'`. */
  custom?: Record<string, string | number | null> | null
}

export interface Group {
  id: string
  name: string
}

/** A user as `findUsers` (and `scopeUsers`) gives it: profile fields in `profile`, or at the top level. */
export interface ExistingUser extends StoredProfile {
  id: string | number | bigint
  email: string
  profile?: StoredProfile | null
  groups?: string[] | null
  enrolments?: ContentRef[] | null
  /** A boolean, or 0 / 1 as SQL databases give them. */
  protected?: boolean | 0 | 1 | null
  /** Deactivated (missing from a file, or by an undo): a boolean, or 0 / 1. */
  suspended?: boolean | 0 | 1 | null
  /** With `suspended`: the engine's `suspendUser` suspended the user (the host records it, and clears it on `reactivateUser`). Only such a user is reactivated by an upload, with `reactivateSuspendedUsers`. Default false. */
  suspendedByUpload?: boolean | 0 | 1 | null
  /** How the user signs in: `'password'` (or absent) or one of `loginMethods`. */
  loginMethod?: string | null
}

export interface NewUser {
  email: string
  profile: Profile
  /** argon2id PHC string; `null` for a user who signs in another way (`loginMethod`). */
  passwordHash: string | null
  forcePasswordReset: boolean
  /** `'password'`, or one of the host's `loginMethods` (then `passwordHash` is null). */
  loginMethod: string
}

/** One page of `scopeUsers`: the users, and the cursor of the next page (`null` on the last). */
export interface ScopePage {
  users: ExistingUser[]
  next?: string | number | bigint | null
}

type MaybePromise<T> = T | Promise<T>

/**
 * The host's user database. Every method may return a value or a Promise; the engine checks
 * every reply (a lookup returning anything but a list fails with `invalid_host_reply`).
 */
export interface Store {
  findUsers(emails: string[]): MaybePromise<ExistingUser[]>
  findGroups(names: string[]): MaybePromise<{ id: string | number | bigint; name: string }[]>
  findContent(refs: ContentRef[]): MaybePromise<ContentRef[]>
  createUser(user: NewUser): MaybePromise<string | number | bigint>
  updateProfile(userId: string, changes: Profile): MaybePromise<unknown>
  setPassword(userId: string, passwordHash: string, forceReset: boolean): MaybePromise<unknown>
  addToGroup(userId: string, group: Group): MaybePromise<unknown>
  removeFromGroup(userId: string, group: Group): MaybePromise<unknown>
  enrol(userId: string, content: ContentRef): MaybePromise<unknown>
  allGroupNames?(): MaybePromise<string[]>
  checkpoint?(): MaybePromise<unknown>
  /** Undo: deactivates a user the upload created (a no-op if already suspended). */
  suspendUser?(userId: string): MaybePromise<unknown>
  /** Undo (`deleteCreatedUsers`): `true` if deleted, `false` if the store keeps the user (it is then suspended). */
  deleteUser?(userId: string): MaybePromise<boolean>
  /** Undo: withdraws an enrolment the upload made. */
  withdraw?(userId: string, content: ContentRef): MaybePromise<unknown>
  /** Lets a suspended user in a file sign in again (with `reactivateSuspendedUsers`, a user an upload suspended; undo of a suspension). */
  reactivateUser?(userId: string): MaybePromise<unknown>
  /** Sets how an existing user signs in (an `auth` value, with `updateExistingProfiles`). */
  setLoginMethod?(userId: string, method: string): MaybePromise<unknown>
  /**
   * `suspendMissingUsers`: the users within the uploader's reach, a page at a time: at most
   * `limit` after the cursor `after` (`null`: the first page), in a stable order.
   */
  scopeUsers?(after: string | null, limit: number): MaybePromise<ScopePage>
  /** `sendInvitations`: keeps a sign-in link's SHA-256 `digest` (never the token) and expiry, dropping the user's unused links of other uploads. */
  addInvitation?(invitation: { user: string; digest: string; expiresAt: number; upload: string }): MaybePromise<unknown>
  /** The link stored under this digest, or `null`. */
  findInvitation?(digest: string): MaybePromise<StoredInvitation | null>
  /** Atomically marks the link used and drops the user's other links; `false` if it was used or unknown. */
  redeemInvitation?(digest: string): MaybePromise<boolean>
  /** Undo: drops the unused links `upload` (a plan fingerprint) issued to the user. */
  revokeInvitations?(userId: string, upload: string): MaybePromise<unknown>
}

/** A sign-in link as a store keeps it. */
export interface StoredInvitation {
  user: string | number | bigint
  digest: string
  /** Seconds since the Unix epoch. */
  expiresAt: number
  used: boolean
}

/**
 * The invited user's id when the sign-in link's token works (checked through the store's
 * `findInvitation`, in constant time); an `InvitationError` (`invitation_unknown`,
 * `invitation_used`, `invitation_expired`) otherwise. Does not use the link up. `now`:
 * seconds since the Unix epoch.
 */
export declare function verifyInvitation(store: Store | MemoryStore, token: string, options?: { now?: number }): Promise<string>
/** `verifyInvitation`, then uses the link up (once; the store drops the user's other links). */
export declare function redeemInvitation(store: Store | MemoryStore, token: string, options?: { now?: number }): Promise<string>

export type MessageKind = 'welcome' | 'password_changed' | 'upload_complete' | 'undo_complete'

export interface Message {
  kind: MessageKind
  to: string
  subject: string
  text: string
  html: string
  fields: {
    firstName: string
    lastName: string
    login: string
    siteUrl: string
    /** The generated password, only when the message carries one: never log such a message. */
    password?: string
    /** The user's personal sign-in link (`sendInvitations`), only when the message carries one: a secret, never log it. */
    invitationUrl?: string
    resultsUrl: string
    counts: Record<string, number>
  }
}

export interface Mailer {
  /** Sends the message, or queues it until `flush`. */
  send(message: Message): MaybePromise<unknown>
  /** Hands the queued messages over; called after each batch, before the store's `checkpoint`. */
  flush?(): MaybePromise<unknown>
}

export interface PlanSummary {
  rows: number
  rejected: number
  create: number
  update: number
  unchanged: number
  profileUpdates: number
  passwords: number
  groupAdditions: number
  groupRemovals: number
  enrolments: number
  emails: number
  /** Users to suspend: missing from the file (`suspendMissingUsers`), or created by the upload an undo reverses (0 included; the plan JSON leaves it out when 0). */
  suspensions: number
  /** Undo: users to delete (or suspend, if the store keeps them) (0 included; the plan JSON leaves it out when 0). */
  deletions: number
  /** Undo: enrolments to withdraw (0 included; the plan JSON leaves it out when 0). */
  withdrawals: number
  /** Suspended users to reactivate (0 included; the plan JSON leaves it out when 0). */
  reactivations: number
  /** Existing users whose login method changes (0 included; the plan JSON leaves it out when 0). */
  loginMethodChanges: number
  /** Sign-in links to issue (`sendInvitations`) (0 included; the plan JSON leaves it out when 0). */
  invitations: number
  /** Undo: users whose sign-in links from the undone upload are revoked (0 included; the plan JSON leaves it out when 0). */
  revocations: number
  warnings: number
}

export type Operation =
  /** `loginMethod`: one of the host's login methods (no password is made); absent for a password. */
  | { op: 'create_user'; profile: Profile; loginMethod?: string }
  | { op: 'set_login_method'; method: string }
  | { op: 'reactivate_user' }
  | { op: 'update_profile'; changes: Profile }
  | { op: 'set_password' }
  /** A sign-in link is issued (`sendInvitations`); `revoke_invitations`: an undo takes the upload's links back. */
  | { op: 'invite' }
  | { op: 'revoke_invitations' }
  | { op: 'add_to_group'; group: Group }
  | { op: 'remove_from_group'; group: Group }
  | { op: 'enrol'; content: ContentRef }
  | { op: 'send_email'; kind: MessageKind }
  /** `suspend_user`: a user missing from the file (a row of its own, after the file's rows), or undo. */
  | { op: 'suspend_user' | 'delete_user' }
  | { op: 'withdraw'; content: ContentRef }

export type Noop =
  | { noop: 'already_member'; group: string }
  | { noop: 'not_a_member'; group: string }
  | { noop: 'already_enrolled'; content: ContentRef }
  | { noop: 'profile_unchanged' }

export interface PlanRow {
  line: number
  email: string
  firstName: string
  lastName: string
  action: 'create' | 'update' | 'unchanged' | 'rejected'
  userId: string | null
  operations: Operation[]
  noops: Noop[]
  issues: Issue[]
}

export interface PlanOptions {
  lookupBatch?: number
}

export declare function plan(upload: Upload, settings: Settings | SettingsOptions, store: Store | MemoryStore, options?: PlanOptions): Promise<Plan>

/** Options of `planUndo()` (snake_case keys are accepted too; an unknown one is `invalid_option`). */
export interface UndoOptions {
  /** Delete the users the upload created (where the store lets it) instead of suspending them. */
  deleteCreatedUsers?: boolean
  /** Who gets the confirmation with the counts (no one if absent). */
  uploaderEmail?: string | null
  /** The link to the undo's results in the confirmation. */
  resultsUrl?: string
  /**
   * The host's trust decision: results that are not `verified` come from storage only it
   * can write. Default false: they are refused (`results_unsigned`). Even then, the undo
   * grants nothing (no group added back, no reactivation) and suspends or deletes no one.
   */
  resultsFromTrustedStorage?: boolean
  /** The upload's declared profile fields: undo writes back only these, with values they accept. */
  fields?: ProfileField[]
  /** The upload's declared login methods: undo sets back only `password` or these. */
  loginMethods?: string[]
  /** Ids of users created by uploads undone since: never reactivated. */
  undoneCreations?: string[]
}

/**
 * The plan that undoes the upload `results` come from, made from the store as it is now
 * (nothing is written): a `StoreError` (`undo_unsupported`) when it needs a store method
 * the store lacks, a `PlanError` (`undo_of_undo`) for the results of an undo, a
 * `PlanError` (`results_unsigned`) for results that are not `verified` (unless
 * `resultsFromTrustedStorage`).
 */
export declare function planUndo(results: Results, store: Store | MemoryStore, options?: UndoOptions): Promise<Plan>

export interface Progress {
  done: number
  total: number
  failed: number
}

/**
 * One email template. Placeholders: `{{first_name}}`, `{{last_name}}`, `{{login}}`,
 * `{{site_url}}`, `{{password}}`, `{{results_url}}`, `{{counts}}` (any other is refused
 * with the code `invalid_template`). Values are HTML-escaped in `html`.
 */
export interface EmailTemplate {
  subject: string
  text: string
  html: string
}

/** Replacement templates for `execute()`; the ones not given keep their defaults. */
export interface EmailTemplates {
  /** A new user, default password (never told): login and link. */
  welcome?: EmailTemplate
  /** A new user with a generated password. */
  welcomeWithPassword?: EmailTemplate
  /** The password was changed to the default one (never told). */
  passwordChanged?: EmailTemplate
  /** The password was changed to a generated one. */
  passwordChangedWithPassword?: EmailTemplate
  /** A new user on another login method than password (single sign-on): login and link. */
  welcomeSso?: EmailTemplate
  /** To the uploader when the execution is over. */
  uploadComplete?: EmailTemplate
  /** To the uploader when an undo is over. */
  undoComplete?: EmailTemplate
}

/** What a journal knows of a plan: line → `null` (begun, maybe half-done) or the finished row. */
export type JournalEntries = Record<number, ResultRow | null> | Map<number, ResultRow | null>

/**
 * Where execution records its progress so that executing the same plan again resumes it.
 * Every method may return a value or a Promise; a failure stops the execution (`StoreError`).
 * Keep it as durable as the store (in the same transaction, if the store has them).
 */
export interface Journal {
  /** Every entry recorded for the plan with this fingerprint (`null`/`undefined`: none). */
  load(fingerprint: string): MaybePromise<JournalEntries | null | undefined>
  /** The row is about to be written. */
  begin(fingerprint: string, line: number): MaybePromise<unknown>
  /** The row is finished (created, updated or unchanged). */
  finish(fingerprint: string, row: ResultRow): MaybePromise<unknown>
}

export interface ExecuteOptions {
  defaultPassword?: string
  hashParams?: { memoryKib?: number; iterations?: number; parallelism?: number; insecureForTests?: boolean }
  threads?: number
  batchSize?: number
  retries?: number
  retryDelayMs?: number
  onProgress?: (progress: Progress) => void
  signal?: AbortSignal
  journal?: Journal | MemoryJournal
  templates?: EmailTemplates
}

export declare class Plan {
  private constructor()
  /** Reads a plan back: `fingerprint_mismatch` for altered content, `plan_unsigned` for a shard (read shards with `fromSignedJSON`). */
  static fromJSON(json: string | object, options?: { defaultPassword?: string }): Plan
  readonly fingerprint: string
  /** The number of rows. */
  readonly length: number
  readonly summary: PlanSummary
  readonly rows: PlanRow[]
  readonly settings: Record<string, unknown>
  readonly fileIssues: Issue[]
  /** The language-neutral plan JSON (snake_case keys), as an object. */
  toJSON(): Record<string, unknown>
  toJSONString(): string
  /** Reads a plan signed with `key`: every check of `fromJSON`, then the signature (`plan_unsigned`, `plan_signature_invalid`). */
  static fromSignedJSON(json: string | object, key: PlanKey, options?: { defaultPassword?: string }): Plan
  /** The plan's JSON text with a `signature`: an HMAC-SHA-256 under `key`. */
  toSignedJSON(key: PlanKey): string
  execute(store: Store | MemoryStore, mailer: Mailer | RecordingMailer, options?: ExecuteOptions): Promise<Results>
  /** The plan cut into shards of `rowsPerShard` rows (docs/shards.md); refused for a shard (`plan_is_shard`). */
  shards(rowsPerShard: number, options?: ShardOptions): Plan[]
  /** Which shard this plan is, or `null` for a whole plan. */
  readonly shard: ShardRef | null
  /** An undo plan: the fingerprint of the upload it reverses; `null` otherwise. */
  readonly undoOf: string | null
}

/**
 * A host's key for signing plans (HMAC-SHA-256, at least 32 bytes). Store `toHex()` where only
 * the host can read it; `String()`, `JSON.stringify` and `util.inspect` show `PlanKey([REDACTED])`.
 */
export declare class PlanKey {
  private constructor()
  /** A fresh 32-byte key from the OS CSPRNG. */
  static generate(): PlanKey
  /** A key from its hex form; a `SettingsError` (`invalid_setting`) when it is not one. */
  static fromHex(hex: string): PlanKey
  /** A key from raw bytes, 32 at least (`invalid_setting`). */
  static fromBytes(bytes: Uint8Array): PlanKey
  /** The key as lowercase hex. */
  toHex(): string
  /** `PlanKey([REDACTED])`. */
  toString(): string
  /** `PlanKey([REDACTED])`. */
  toJSON(): string
}

/** Options of `plan.shards()`: a default-password plan needs its password, hashed once here. */
export interface ShardOptions {
  defaultPassword?: string
  hashParams?: ExecuteOptions['hashParams']
}

/** A shard's identity: the parent plan's fingerprint, its index (from 0) and the shard count. */
export interface ShardRef {
  parent: string
  index: number
  count: number
}

export declare function execute(plan: Plan, store: Store | MemoryStore, mailer: Mailer | RecordingMailer, options?: ExecuteOptions): Promise<Results>

export interface ResultSummary {
  rows: number
  created: number
  updated: number
  unchanged: number
  rejected: number
  failed: number
  emailsSent: number
  resumed: number
  /** Users suspended (missing from the file, or by an undo) (0 included; the results JSON leaves it out when 0). */
  suspended: number
  /** Users deleted by an undo (0 included; the results JSON leaves it out when 0). */
  deleted: number
  /** Suspended users reactivated (0 included; the results JSON leaves it out when 0). */
  reactivated: number
  /** Users whose login method changed (0 included; the results JSON leaves it out when 0). */
  loginMethodsChanged: number
}

/** Why a row was rejected or failed: a stable code and a message (`more`: a rejected row's further errors). */
export interface ResultError {
  code: string
  message: string
  more?: ResultError[]
}

/** One operation performed on a row, tagged by `op`. */
export type Done =
  | { op: 'create_user' | 'recover_user' | 'set_password' | 'invite' | 'revoke_invitations' }
  /** `before`: the values the changes replaced (`''` for an empty field), `null` when not known (a resumed row). */
  | { op: 'update_profile'; changes: Profile; before: Profile | null }
  /** `already`: the store already had it when the row was written (undo leaves it). */
  | { op: 'add_to_group' | 'remove_from_group'; group: string; already?: boolean }
  | { op: 'enrol'; content: ContentRef; already?: boolean }
  | { op: 'send_email'; kind: 'welcome' | 'password_changed' }
  | { op: 'suspend_user' | 'delete_user' | 'reactivate_user' }
  | { op: 'withdraw'; content: ContentRef }
  /** `before`: the method it replaced, `null` when not known (a resumed row). */
  | { op: 'set_login_method'; method: string; before: string | null }

export interface ResultRow {
  line: number
  email: string
  status: 'created' | 'updated' | 'unchanged' | 'rejected' | 'failed'
  userId: string | null
  done: Done[]
  error: ResultError | null
}

export declare class Results {
  private constructor()
  readonly fingerprint: string
  /** The number of rows. */
  readonly length: number
  readonly summary: ResultSummary
  readonly rows: ResultRow[]
  readonly cancelled: boolean
  readonly confirmationError: ResultError | null
  /** Set for a shard's results: which shard. */
  readonly shard: ShardRef | null
  /** True for a shard's results: the confirmation is the finaliser's (`sendConfirmation`). */
  readonly confirmationDeferred: boolean
  /** An undo's results: the fingerprint of the upload it reversed; `null` otherwise (`planUndo` refuses them). */
  readonly undoOf: string | null
  toCSV(): string
  toJSON(): Record<string, unknown>
  toJSONString(): string
  /** Whether the engine vouches for these results (from `execute`, `fromSignedJSON`, or merged from such). */
  readonly verified: boolean
  /** Results read back from their JSON (a shard job's, saved for the finaliser); not `verified`. */
  static fromJSON(json: string | object): Results
  /** Results signed with `key`: every check of `fromJSON`, then the signature (`results_unsigned`, `results_signature_invalid`). */
  static fromSignedJSON(json: string | object, key: PlanKey): Results
  /** The results' JSON text with a `signature` (HMAC-SHA-256 under `key`). */
  toSignedJSON(key: PlanKey): string
  /** Every shard's results of `parent` (each once, any order) merged into the parent's. */
  static merge(parent: Plan, resultsList: Results[]): Results
  /** Sends the uploader's one confirmation with these merged counts; resolves with these results. */
  sendConfirmation(parent: Plan, mailer: Mailer | RecordingMailer, options?: { templates?: EmailTemplates }): Promise<Results>
}

export interface UserState extends Profile {
  id?: string
  email: string
  groups?: string[]
  enrolments?: ContentRef[]
  protected?: boolean
  suspended?: boolean
  /** How the user signs in; absent for a password. */
  loginMethod?: string
  hasPassword?: boolean
  forcePasswordReset?: boolean
}

/** The store methods a host may leave out (snake_case, as in `StoreState.lacks`). */
export type OptionalMethod =
  | 'suspend_user' | 'delete_user' | 'withdraw' | 'reactivate_user' | 'set_login_method' | 'scope_users'
  | 'add_invitation' | 'find_invitation' | 'redeem_invitation' | 'revoke_invitations'

export interface StoreState {
  groups?: Group[]
  content?: ContentRef[]
  users?: UserState[]
  /** The optional methods this store pretends not to have (an undo refused: `undo_unsupported`; a plan: `host_method_missing`). */
  lacks?: OptionalMethod[]
}

export declare class MemoryStore {
  constructor(state?: StoreState)
  state(): Required<Omit<StoreState, 'lacks'>> & Pick<StoreState, 'lacks'>
  /** Calls so far, by method name as a JavaScript store spells it (`findUsers`). */
  readonly calls: Record<string, number>
  addGroup(id: string, name: string): this
  addContent(content: ContentRef): this
  addUser(user: ExistingUser): this
  /** The argon2id PHC string of the user's password, or `null` if none was set. */
  passwordHash(email: string): string | null
  verifyPassword(email: string, password: string): boolean
}

export declare class RecordingMailer {
  constructor()
  readonly messages: Message[]
  clear(): void
}

/** A journal in memory: give the same one to `execute()` again to resume. */
export declare class MemoryJournal {
  constructor()
}

export declare function issueCodes(): CodeInfo[]
/** The engine's version. */
export declare const version: string
/** The plan format version this engine writes and reads. */
export declare const PLAN_FORMAT_VERSION: number
/** The identity of an address, as the engine compares them: lowercase, the domain mapped to ASCII by IDNA (`ana@Bücher.de` → `ana@xn--bcher-kva.de`). A store that looks users up itself keys them by it. */
export declare function emailKey(email: string): string
/** Whether `password` matches a stored argon2id PHC hash (a login check). */
export declare function verifyPassword(phc: string, password: string): boolean

export interface ErrorFields {
  code: string
  kind: ErrorKind
  line?: number | null
  column?: string | null
  transient?: boolean
}

export declare class BulkUploadError extends Error {
  constructor(message: string, fields: ErrorFields)
  readonly code: string
  readonly kind: ErrorKind
  readonly line: number | null
  readonly column: string | null
  readonly transient: boolean
  /** `line 3: emailaddress: message [code]` (the place when there is one), as in every language. */
  toString(): string
}
export declare class FileError extends BulkUploadError {}
export declare class SettingsError extends BulkUploadError {}
export declare class PlanError extends BulkUploadError {}
export declare class StoreError extends BulkUploadError {}
export declare class MailerError extends BulkUploadError {}
/** A sign-in link that does not work: `invitation_unknown`, `invitation_used`, `invitation_expired`. */
export declare class InvitationError extends BulkUploadError {}
/** Throw it (or any error with `transient: true`) from a host method to have the engine retry. */
export declare class TransientError extends Error {
  constructor(message?: string)
  readonly transient: true
}

// ---- The administrator's screens in a Node web app (web.js, express.js) -----------------

/** A record of the host's record store (docs/web-host-protocol.md). */
export interface WebRecord {
  version: number
  doc: unknown
}

/** The host's primitives for the screens; `enqueueRun` is optional. */
export interface WebHooks {
  /** The administrator's email, or null (wrong credentials, or no administrator). */
  authenticate(email: string, password: string): string | null | Promise<string | null>
  getRecord(kind: string, id: string): WebRecord | null | Promise<WebRecord | null>
  /** `expected` null: create or replace; 0: create only; n: replace the record at version n only. */
  putRecord(kind: string, id: string, doc: unknown, expected: number | null): boolean | Promise<boolean>
  /** Newest first (reverse order of creation). */
  listRecords(kind: string, offset: number, limit: number):
    | { total: number; items: { id: string; doc: unknown }[] }
    | Promise<{ total: number; items: { id: string; doc: unknown }[] }>
  deleteRecord(kind: string, id: string): unknown
  catalog():
    | { groups: { id: string | number; name: string }[]; content: { kind: ContentKind; id: string | number; title?: string }[] }
    | Promise<{ groups: { id: string | number; name: string }[]; content: { kind: ContentKind; id: string | number; title?: string }[] }>
  /** Arrange for `WebApi.run(runId)` to be called by a worker; without it, a thread of this process runs it. */
  enqueueRun?(runId: string): unknown
}

export interface WebApiOptions {
  hooks: WebHooks
  store: Store
  mailer: Mailer
  /** The screens' public URL, mount path included (`https://lms.example.com/admin/bulk-upload`). */
  siteUrl: string
  /** 32 bytes or more, the same in every process: signs plans and results, seals default passwords. */
  secret: string
  parseOptions?: ParseOptions | null
  execute?: Omit<ExecuteOptions, 'onProgress' | 'signal' | 'journal' | 'defaultPassword'> | null
  secureCookies?: boolean
  sessionSecs?: number | null
}

export interface WebAnswer {
  status: number
  headers: [string, string][]
  /** The whole body, or null for a stream. */
  body: Uint8Array | null
  /** The run's events: text chunks as they come. */
  stream: AsyncIterable<string> | null
}

/**
 * The screens' API. Idle, it does not keep the process alive (a server closed, the process
 * ends); a request being answered, a run executing and an events stream being read do.
 */
export declare class WebApi {
  constructor(options: WebApiOptions)
  handle(request: { method: string; path: string; query?: string; headers?: [string, string][]; body?: Uint8Array; peer?: string | null }): Promise<WebAnswer>
  bodyLimit(method: string, path: string): number
  tooLarge(limit: number): WebAnswer
  run(runId: string): Promise<'ended' | 'already_ended' | 'busy'>
  resumeUnfinished(): Promise<string[]>
}
