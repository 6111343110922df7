// An Express-shaped host, without Express: route handlers `(req, res)` for the three
// screens of a bulk upload (validate → review the plan → run it), a store over an async
// "database", and errors turned into HTTP answers by their `code`, never their message.
// The plan is kept as JSON between requests (it could wait for an approval in a database,
// or run on another worker); its fingerprint guards it.
//
// Run: node examples/node/express-style.js — it plays a short session against the handlers.
'use strict'
const { setImmediate: tick } = require('node:timers/promises')
const lms = require('lms-bulk-upload')

// ---- The host's database (async, as with any Node driver) -------------------------------
class Db {
  constructor() {
    this.users = [{ id: 1, email: 'admin@school.example', firstName: 'Ada', lastName: 'Admin', role: 'admin', groups: [] }]
    this.groups = [{ id: 10, name: 'Year 9' }, { id: 11, name: 'Staff' }]
    this.courses = ['safety-101']
    this.nextId = 2
    this.pending = new Map() // upload id -> plan JSON
  }
}

/** The `Store` the engine calls: every method may be async. */
function storeFor(db) {
  const byId = (id) => db.users.find((u) => String(u.id) === String(id))
  return {
    async findUsers(emails) {
      await tick()
      // The engine's identity of an address (lowercase, IDNA domain).
      const wanted = new Set(emails.map(lms.emailKey))
      return db.users
        .filter((u) => wanted.has(lms.emailKey(u.email)))
        .map((u) => ({ id: u.id, email: u.email, profile: { firstName: u.firstName, lastName: u.lastName }, groups: u.groups, protected: u.role === 'admin' }))
    },
    async findGroups(names) {
      await tick()
      return db.groups.filter((g) => names.includes(g.name))
    },
    async findContent(refs) {
      return refs.filter((r) => r.kind === 'course' && db.courses.includes(r.id))
    },
    async allGroupNames() {
      return db.groups.map((g) => g.name)
    },
    async createUser({ email, profile, passwordHash, forcePasswordReset }) {
      await tick()
      const user = { id: db.nextId++, email, ...profile, passwordHash, forcePasswordReset, groups: [] }
      db.users.push(user)
      return user.id
    },
    async updateProfile(id, changes) {
      Object.assign(byId(id), changes)
    },
    async setPassword(id, passwordHash, forcePasswordReset) {
      Object.assign(byId(id), { passwordHash, forcePasswordReset })
    },
    async addToGroup(id, group) {
      const user = byId(id)
      if (!user.groups.includes(group.name)) user.groups.push(group.name)
    },
    async removeFromGroup(id, group) {
      const user = byId(id)
      user.groups = user.groups.filter((g) => g !== group.name)
    },
    async enrol() {},
  }
}

/** The `Mailer`: here an outbox; a real host would hand the message to its SMTP client. */
const outbox = []
const mailer = {
  async send(message) {
    await tick()
    outbox.push({ to: message.to, subject: message.subject })
  },
}

// ---- Route handlers ---------------------------------------------------------------------
const STATUS = { file: 422, settings: 422, plan: 409, store: 503, mailer: 503 }

function sendError(res, error) {
  if (error instanceof lms.BulkUploadError) {
    return res.status(STATUS[error.kind] ?? 500).json({ code: error.code, line: error.line, message: error.message })
  }
  throw error
}

// POST /uploads/:id — body: the CSV; answers the validation report and the plan summary.
async function postUpload(req, res, db) {
  try {
    const upload = lms.parse(req.body)
    const plan = await lms.plan(upload, req.query.settings, storeFor(db))
    db.pending.set(req.params.id, plan.toJSONString())
    res.status(200).json({ report: upload.report(), plan: plan.summary, fingerprint: plan.fingerprint })
  } catch (error) {
    sendError(res, error)
  }
}

// POST /uploads/:id/run — runs the plan that was reviewed.
async function runUpload(req, res, db) {
  try {
    const plan = lms.Plan.fromJSON(db.pending.get(req.params.id))
    if (plan.fingerprint !== req.body.fingerprint) {
      return res.status(409).json({ code: 'plan_changed', message: 'review the plan again' })
    }
    const results = await plan.execute(storeFor(db), mailer)
    res.status(200).type('text/csv').send(results.toCSV())
  } catch (error) {
    sendError(res, error)
  }
}

// ---- A tiny stand-in for Express's req/res, and a session -------------------------------
function response() {
  const res = { statusCode: 200, headers: {}, body: undefined }
  res.status = (code) => ((res.statusCode = code), res)
  res.type = (type) => ((res.headers['content-type'] = type), res)
  res.json = (body) => ((res.body = body), res)
  res.send = (body) => ((res.body = body), res)
  return res
}

async function main() {
  const db = new Db()
  const settings = { groups: ['Staff'], uploaderEmail: 'admin@school.example', siteUrl: 'https://lms.school.example/' }
  const csv = [
    'firstname,lastname,emailaddress,addgroup',
    'Mere,Tane,mere@school.example,Year 9',
    'Sam,Lee,sam@school.example,year 9',
    'Ada,Admin,ADMIN@school.example,',
  ].join('\n')

  const validated = response()
  await postUpload({ params: { id: 'u1' }, query: { settings }, body: Buffer.from(csv) }, validated, db)
  console.log(validated.statusCode, JSON.stringify(validated.body.plan))
  for (const issue of validated.body.report.issues) console.log('  file:', issue.code)

  const ran = response()
  await runUpload({ params: { id: 'u1' }, body: { fingerprint: validated.body.fingerprint } }, ran, db)
  console.log(ran.statusCode, ran.headers['content-type'])
  console.log(ran.body)
  console.log('outbox:', outbox.map((m) => `${m.to}: ${m.subject}`))

  const bad = response()
  await postUpload({ params: { id: 'u2' }, query: { settings: { generatePasswords: false } }, body: Buffer.from(csv) }, bad, db)
  console.log(bad.statusCode, bad.body.code)

  const created = db.users.filter((u) => u.passwordHash)
  if (ran.statusCode !== 200 || created.length !== 1 || bad.body.code !== 'default_password_required') {
    throw new Error('the session did not go as expected')
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
