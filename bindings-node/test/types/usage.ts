// Type-checked by `make test-node` (tsc -p test/types): the declarations describe real use.
import * as lms from '../../lms'

declare const buffer: Uint8Array

async function flow(): Promise<void> {
  const upload: lms.Upload = lms.parse(buffer, { maxRows: 10, delimiter: ';' })
  const codes: string[] = upload.issues.map((i) => i.code)
  const sheets: string[] = lms.sheetNames(buffer, { maxFileBytes: 1 << 20 })
  lms.parse(buffer, { sheet: sheets[0], columnAssignments: { 1: 'last name', 3: null } })
  lms.parse(buffer, { columnAssignments: new Map([[0, 'email']]) })
  for (const row of upload) console.log(row.values.emailaddress, row.addGroups)
  const store: lms.Store = {
    findUsers: async (emails) => emails.map((email, i) => ({ id: i, email })),
    findGroups: (names) => names.map((name) => ({ id: name, name })),
    findContent: async (refs) => refs,
    createUser: async (user) => user.email.length,
    updateProfile: async () => undefined,
    setPassword: async (_id, hash, force) => [hash, force],
    addToGroup: async () => {},
    removeFromGroup: async () => {},
    enrol: async () => {},
  }
  const mailer: lms.Mailer = { send: async (m) => console.log(m.kind, m.fields.password ? 'secret' : m.text) }
  const settings = new lms.Settings({ groups: ['Sales'], enrolments: [{ kind: 'course', id: 'c1' }] })
  const plan = await lms.plan(upload, settings, store, { lookupBatch: 500 })
  const summary: lms.PlanSummary = plan.summary
  const again = lms.Plan.fromJSON(plan.toJSONString(), { defaultPassword: 'x' })
  const controller = new AbortController()
  const results = await again.execute(new lms.MemoryStore(), new lms.RecordingMailer(), {
    hashParams: { memoryKib: 64, insecureForTests: true },
    signal: controller.signal,
    onProgress: ({ done, total }) => console.log(done / total),
  })
  const entries = new Map<number, lms.ResultRow | null>()
  const journal: lms.Journal = {
    load: async () => entries,
    begin: (_fingerprint, line) => void entries.set(line, null),
    finish: async (_fingerprint, row) => entries.set(row.line, row),
  }
  const templates: lms.EmailTemplates = {
    welcomeWithPassword: { subject: 'Hi {{first_name}}', text: '{{password}}', html: '<p>{{login}}</p>' },
  }
  await lms.execute(again, store, mailer, { journal, templates })
  await again.execute(new lms.MemoryStore(), new lms.RecordingMailer(), { journal: new lms.MemoryJournal() })
  const csv: string = results.toCSV()
  console.log(codes, summary.groupAdditions, csv, results.summary.emailsSent)
  try {
    lms.parse('')
  } catch (error) {
    if (error instanceof lms.FileError) console.log(error.code, error.line, error.kind)
  }
  const shards: lms.Plan[] = plan.shards(500, { defaultPassword: 'x', hashParams: { memoryKib: 19456 } })
  const ref: lms.ShardRef | null = shards[0].shard
  const shardResults: lms.Results[] = [lms.Results.fromJSON(results.toJSONString())]
  const merged = lms.Results.merge(plan, shardResults)
  const confirmed: lms.Results = await merged.sendConfirmation(plan, { send: async () => {} }, { templates })
  console.log(ref?.parent, ref?.index, confirmed.shard, confirmed.confirmationDeferred)
  const key: lms.PlanKey = lms.PlanKey.fromHex(lms.PlanKey.generate().toHex())
  const signed: string = plan.toSignedJSON(key)
  const checked: lms.Plan = lms.Plan.fromSignedJSON(signed, lms.PlanKey.fromBytes(new Uint8Array(32)), { defaultPassword: 'x' })
  console.log(checked.fingerprint, String(key))
  const undoStore: lms.Store = {
    ...store,
    suspendUser: async () => {},
    deleteUser: async (userId) => userId !== 'keep',
    withdraw: (_id, content) => console.log(content.kind),
  }
  const options: lms.UndoOptions = { deleteCreatedUsers: true, uploaderEmail: 'admin@example.com' }
  const undo: lms.Plan = await lms.planUndo(results, undoStore, options)
  const undone: lms.Results = await undo.execute(undoStore, mailer)
  const of: string | null = undo.undoOf ?? undone.undoOf
  console.log(of, undo.summary.suspensions ?? 0, undo.summary.deletions, undo.summary.withdrawals)
  await lms.planUndo(undone, new lms.MemoryStore({ lacks: ['withdraw'] })).catch((e: unknown) => {
    if (e instanceof lms.PlanError && e.code === 'undo_of_undo') console.log(e.kind)
  })
  for (const done of undone.rows.flatMap((r) => r.done)) {
    if (done.op === 'withdraw') console.log(done.content.id)
    if (done.op === 'update_profile') console.log(done.changes.firstName, done.before?.firstName)
    if (done.op === 'add_to_group' && done.already) console.log(done.group)
  }
  const list: lms.CodeInfo[] = lms.issueCodes()
  console.log(list.length)

  // Issue 15: host profile fields, login methods, users missing from the file.
  const fields: lms.ProfileField[] = [
    { name: 'start_date', kind: 'date', required: true },
    { name: 'grade', kind: 'one_of', values: ['A', 'B'], aliases: ['level'] },
    { name: 'department', maxLength: 40 },
  ]
  const parseOptions: lms.ParseOptions = { fields, loginMethods: ['saml'], clearToken: '<delete>', maxIssues: 100 }
  const sso = lms.parse(buffer, parseOptions)
  console.log(sso.report().header.map((h) => h.field ?? h.column), sso.rows[0]?.values.auth)
  const scoped: lms.ExistingUser[] = [
    { id: 1n, email: 'a@example.com', custom: { start_date: '2026-01-02', hours: 37.5, grade: null }, loginMethod: 'saml' },
    { id: 2, email: 'b@example.com', profile: { firstName: 'B', custom: { start_date: '2026-01-03' } }, suspended: 1 },
  ]
  const hostStore: lms.Store = {
    ...store,
    createUser: async (user: lms.NewUser) => {
      const method: string = user.loginMethod
      const hash: string | null = user.passwordHash
      const start: string | undefined = user.profile.custom?.start_date
      return `${method}${hash ?? ''}${start ?? ''}`
    },
    updateProfile: async (_id, changes) => console.log(changes.custom?.department === ''),
    suspendUser: async () => {},
    reactivateUser: async (userId) => console.log(userId),
    setLoginMethod: async (_id, method) => console.log(method),
    scopeUsers: async (after, limit) => {
      const start = after === null ? 0 : Number(after)
      const page: lms.ScopePage = { users: scoped.slice(start, start + limit), next: start + limit < scoped.length ? String(start + limit) : null }
      return page
    },
  }
  const ssoSettings: lms.SettingsOptions = {
    defaultLoginMethod: 'saml',
    suspendMissingUsers: true,
    missingUsersThreshold: 25,
    updateExistingProfiles: true,
  }
  const shown = new lms.Settings(ssoSettings).toJSON()
  const method: string | null = shown.defaultLoginMethod
  const threshold: number = shown.missingUsersThreshold
  console.log(method, threshold, shown.suspendMissingUsers)
  const ssoPlan = await lms.plan(sso, ssoSettings, hostStore)
  const counts: [number, number, number] = [
    ssoPlan.summary.reactivations ?? 0,
    ssoPlan.summary.loginMethodChanges ?? 0,
    ssoPlan.summary.suspensions ?? 0,
  ]
  for (const op of ssoPlan.rows.flatMap((r) => r.operations ?? [])) {
    if (op.op === 'create_user') console.log(op.loginMethod ?? 'password', op.profile.custom?.start_date)
    if (op.op === 'set_login_method') console.log(op.method)
    if (op.op === 'update_profile') console.log(op.changes.custom)
  }
  const ssoResults = await ssoPlan.execute(hostStore, mailer)
  for (const done of ssoResults.rows.flatMap((r) => r.done)) {
    if (done.op === 'set_login_method') console.log(done.method, done.before ?? 'unknown')
    if (done.op === 'reactivate_user' || done.op === 'suspend_user') console.log(done.op)
  }
  const lacking = new lms.MemoryStore({ lacks: ['scope_users', 'reactivate_user', 'set_login_method'] })
  const state = lacking.state()
  console.log(counts, state.lacks, state.users.map((u) => [u.loginMethod, u.custom?.start_date]))
  const linked = await lms.plan(upload, { sendInvitations: true, invitationUrl: 'https://lms.example.com/i/{token}' }, hostStore)
  console.log(linked.summary.invitations ?? 0)
  const links = new lms.RecordingMailer()
  await linked.execute(new lms.MemoryStore(), links)
  const link: string | undefined = links.messages[0]?.fields.invitationUrl
  try {
    const user: string = await lms.verifyInvitation(new lms.MemoryStore(), link ?? '', { now: 0 })
    console.log(user, await lms.redeemInvitation(new lms.MemoryStore(), link ?? ''))
  } catch (e) {
    if (e instanceof lms.InvitationError) console.log(e.code)
  }
}

void flow

// One API shape (docs/api.md): every count and list present, the store double's names.
async function shapes(): Promise<void> {
  const upload = lms.parse('email\nana@example.com\n')
  const store = new lms.MemoryStore().addGroup('g1', 'Sales').addContent({ kind: 'course', id: 'c1' })
  const plan = await lms.plan(upload, { generatePasswords: true }, store)
  const suspensions: number = plan.summary.suspensions
  const operations: number = plan.rows[0].operations.length
  const rows: number = plan.length + upload.validCount
  const hash: string | null = store.passwordHash('ana@example.com')
  const created: number | undefined = store.calls.createUser
  const version: string = lms.version
  const format: number = lms.PLAN_FORMAT_VERSION
  const sheet: string | null = upload.sheet
  console.log(suspensions, operations, rows, hash, created, version, format, sheet, upload.groupSeparator)
  try {
    throw new lms.TransientError('busy')
  } catch (error) {
    if (error instanceof lms.BulkUploadError) console.log(error.kind, String(error))
  }
}

void shapes
