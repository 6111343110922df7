// The page a sign-in link opens, against the real server: an upload with --send-invitations
// emails links to the outbox; the link's page is checked with axe, a weak password is refused
// with zxcvbn's reason, a strong one is set (argon2id, by the server) and the page offers to
// sign in; the link then works no more.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { api, assertAccessible, BIN, binEnv, closeSession, openSession, outbox, signIn, TARGET, upload } from './harness.mjs'

// The reference server only: it issues the links with the CLI (`apply --send-invitations`)
// and reads them back from its outbox. The framework hosts' stores keep no links yet, and
// their screens answer the link's routes with 404 (`docs/web-host-protocol.md`).
const reference = TARGET === 'rust'

describe('sign-in links on the reference server', { skip: !reference && 'the framework hosts send no sign-in links yet' }, () => {
  let env, server, browser, page, link

  before(async () => {
    ;({ env, server, browser, page } = await openSession({ signInPath: null }))
    const file = join(env.dir, 'invite.csv')
    writeFileSync(file, 'firstname,lastname,emailaddress\nAroha,Ngata,aroha@example.org\n')
    const r = spawnSync(
      BIN,
      ['apply', file, '--db', env.db, '--yes', '--send-invitations', '--site-url', server.base, '--outbox', env.outbox],
      { env: binEnv(), encoding: 'utf8' },
    )
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`)
    const mail = outbox(env).find((m) => m.text.includes('aroha@example.org'))
    assert.ok(mail, 'the welcome email is in the outbox')
    link = new RegExp(`${server.base}/invitations/[A-Za-z0-9_-]{43}`).exec(mail.text)?.[0]
    assert.ok(link, `a sign-in link in: ${mail.text}`)
    assert.ok(!/Password: /.test(mail.text), 'no password in the email')
  })

  after(() => closeSession({ env, server, browser }))

  function verify(token, ...extra) {
    return spawnSync(BIN, ['invite', 'verify', token, '--db', env.db, ...extra], { env: binEnv(), encoding: 'utf8' })
  }

  test('the link opens a form to choose a password; a weak one is refused, a strong one is set', async () => {
    await page.goto(link)
    await page.getByRole('heading', { name: 'Choose your password' }).waitFor()
    await assertAccessible(null, page, assert)

    await page.getByLabel('New password').fill('password123')
    await page.getByLabel('Repeat the password').fill('password123')
    await page.getByRole('button', { name: 'Set my password' }).click()
    await page.getByRole('alert').filter({ hasText: /too easy to guess/ }).waitFor()

    await page.getByLabel('New password').fill('Kowhai-tree-by-the-river-42')
    await page.getByLabel('Repeat the password').fill('Kowhai-tree-by-the-river-4')
    await page.getByRole('button', { name: 'Set my password' }).click()
    await page.getByRole('alert').filter({ hasText: 'The two passwords differ.' }).waitFor()

    await page.getByLabel('Repeat the password').fill('Kowhai-tree-by-the-river-42')
    await page.getByRole('button', { name: 'Set my password' }).click()
    await page.getByRole('heading', { name: 'Your password is set' }).waitFor()
    const signIn = page.getByRole('link', { name: 'Sign in' })
    assert.equal(await signIn.getAttribute('href'), server.base)
    await assertAccessible(null, page, assert)
    assert.deepEqual(page.problems, [])

    const token = link.split('/').pop()
    const r = verify(token)
    assert.equal(r.status, 6, 'the link is used up')
    assert.match(r.stderr, /invitation_used/)
    assert.ok(!r.stderr.includes(token) && !r.stdout.includes(token), 'the token is never printed')
  })

  test('a used link says so and offers no form', async () => {
    await page.goto(link)
    await page.getByRole('heading', { name: 'This link does not work' }).waitFor()
    await page.getByText('This link was used already').waitFor()
    assert.equal(await page.getByLabel('New password').count(), 0)
    await assertAccessible(null, page, assert)
    await page.goto(`${server.base}/invitations/${'A'.repeat(43)}`)
    await page.getByText('This link is not valid').waitFor()
  })

  test('the settings screen offers sign-in links instead of passwords, with the seed\'s rules', async () => {
    await signIn(page, env)
    const file = join(env.dir, 'links.csv')
    writeFileSync(file, 'firstname,lastname,emailaddress\nMere,Parata,mere@example.org\n')
    await upload(page, file)
    await page.goto(`${new URL(page.url()).pathname}/settings`)
    await page.getByRole('heading', { name: /^Settings/ }).waitFor()
    const links = page.getByLabel('Send personal sign-in links instead of passwords')
    assert.equal(await links.isChecked(), false, 'generated passwords stay the default')
    await links.check()
    assert.equal(await page.getByLabel('Generate passwords and email them to users').isDisabled(), true)
    assert.equal(await page.getByLabel('Send a notification email to new users').isDisabled(), true, 'links need the email')
    assert.equal(await page.getByLabel('Default password').isVisible(), false)
    await assertAccessible(null, page, assert)
    await page.getByRole('button', { name: 'Preview the changes' }).click()
    await page.getByRole('heading', { name: 'Preview' }).waitFor()
    const id = new URL(page.url()).pathname.split('/').pop()
    const res = await api(page, 'GET', `/api/plans/${id}`)
    assert.equal(res.status, 200)
    assert.equal(res.body.settings.send_invitations, true)
    assert.equal(res.body.settings.generate_passwords, false)
    assert.equal(res.body.summary.invitations, 1)
    assert.equal(res.body.summary.passwords, 0)
  })
})
