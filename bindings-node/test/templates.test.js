'use strict'
// Custom email templates: `execute(..., { templates })` replaces any of the five templates.
const test = require('node:test')
const assert = require('node:assert/strict')
const lms = require('..')

const FAST_HASH = { memoryKib: 64, iterations: 1, parallelism: 1, insecureForTests: true }
const CSV = 'firstname,lastname,email\nAna,Lopez,ana@example.com\nBo,<Chan>,bo@example.com\n'

async function setUp(settings = {}) {
  const store = new lms.MemoryStore()
  const plan = await lms.plan(lms.parse(CSV), settings, store)
  return { store, plan, mailer: new lms.RecordingMailer() }
}

const WELCOME = {
  subject: 'Welcome to Acme, {{first_name}}',
  text: 'Hi {{ first_name }} {{last_name}}, sign in as {{login}} with {{password}} at {{site_url}}',
  html: '<p>Hi {{first_name}} {{last_name}}</p>',
}

test('a custom welcome template is used for the welcome emails', async () => {
  const { store, plan, mailer } = await setUp({ uploaderEmail: 'boss@example.com' })
  await plan.execute(store, mailer, { hashParams: FAST_HASH, templates: { welcomeWithPassword: WELCOME } })
  const [ana, bo, done] = mailer.messages
  assert.equal(ana.kind, 'welcome')
  assert.equal(ana.subject, 'Welcome to Acme, Ana')
  assert.equal(ana.text, `Hi Ana Lopez, sign in as ana@example.com with ${ana.fields.password} at https://lms.example.com/`)
  assert.ok(ana.fields.password.length >= 16)
  assert.ok(store.verifyPassword('ana@example.com', ana.fields.password))
  assert.equal(bo.html, '<p>Hi Bo &lt;Chan&gt;</p>', 'values are HTML-escaped in the HTML body')
  assert.equal(bo.text.startsWith('Hi Bo <Chan>,'), true, 'and inserted as they are in the text body')
  // The templates not given keep their defaults.
  assert.equal(done.kind, 'upload_complete')
  assert.equal(done.subject, 'Bulk upload complete')
})

test('with a default password the `welcome` template is used, never the password', async () => {
  const settings = { generatePasswords: false, defaultPassword: 'Correct-Horse-9' }
  const { store, plan, mailer } = await setUp(settings)
  const templates = {
    welcome: { subject: 'Your Acme account', text: 'Login: {{login}}. Ask IT for your password.', html: '<p>{{login}}</p>' },
    welcomeWithPassword: WELCOME,
  }
  await plan.execute(store, mailer, { hashParams: FAST_HASH, defaultPassword: 'Correct-Horse-9', templates })
  assert.deepEqual(
    mailer.messages.map((m) => [m.kind, m.subject, m.text]),
    [
      ['welcome', 'Your Acme account', 'Login: ana@example.com. Ask IT for your password.'],
      ['welcome', 'Your Acme account', 'Login: bo@example.com. Ask IT for your password.'],
    ],
  )
  assert.ok(mailer.messages.every((m) => !('password' in m.fields) && !m.text.includes('Correct-Horse-9')))
})

test('template names may be snake_case too; upload_complete renders the counts', async () => {
  const { store, plan, mailer } = await setUp({ uploaderEmail: 'boss@example.com' })
  const uploadComplete = { subject: 'Done: {{results_url}}', text: '{{counts}}', html: '<pre>{{counts}}</pre>' }
  await plan.execute(store, mailer, { hashParams: FAST_HASH, templates: { upload_complete: uploadComplete } })
  const done = mailer.messages.find((m) => m.kind === 'upload_complete')
  assert.equal(done.subject, 'Done: https://lms.example.com/uploads/results')
  assert.match(done.text, /^created: 2$/m)
})

test('an unknown placeholder is refused with invalid_template before anything is written', async () => {
  const { store, plan, mailer } = await setUp()
  const welcome = { ...WELCOME, text: 'Hello {{firstname}}' }
  await assert.rejects(
    plan.execute(store, mailer, { hashParams: FAST_HASH, templates: { welcomeWithPassword: welcome } }),
    (e) =>
      e instanceof lms.SettingsError &&
      e.code === 'invalid_template' &&
      e.kind === 'settings' &&
      /\{\{firstname\}\}/.test(e.message),
  )
  assert.equal(store.state().users.length, 0)
  assert.equal(mailer.messages.length, 0)
  assert.ok(lms.issueCodes().some((c) => c.code === 'invalid_template'))
})

test('malformed templates are refused by the core with invalid_option', async () => {
  const { store, plan, mailer } = await setUp()
  const refused = (templates, pattern) =>
    assert.rejects(
      plan.execute(store, mailer, { hashParams: FAST_HASH, templates }),
      (e) => e instanceof lms.SettingsError && e.code === 'invalid_option' && pattern.test(e.message),
    )
  await refused({ greeting: WELCOME }, /templates has no option "greeting"/)
  await refused({ welcome: { subject: 'Hi', text: 'Hi' } }, /templates\.welcome needs a subject, a text and an html/)
  await refused({ welcome: { ...WELCOME, body: 'x' } }, /templates\.welcome has no option "body"/)
  await refused({ welcome: 'Hi' }, /must be an object/)
  await refused(['welcome'], /templates must be an object/)
  assert.equal(store.state().users.length, 0)
})
