// Sign-in links, as people use them, on every target (the reference server, and the Django,
// Express and Rails examples mounted below /admin/bulk-upload/): the administrator
// chooses "Send personal sign-in links" on the settings screen, previews and approves; the run
// emails the new user a link below the mount point (never a password). The user opens it in
// their own browser: the page is checked with axe, a weak password is refused with zxcvbn's
// reason, a strong one is set (argon2id, by the engine) and the page offers to sign in; the
// link then works no more. Undoing the upload revokes the links still unused.
import { after, before, describe } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { api, appPath, assertAccessible, BIN, binEnv, closeSession, newPage, openSession, outbox, passwordWorks, PREFIX, TARGET, test, until, upload } from './harness.mjs'

describe('sign-in links', () => {
  let env, server, browser, page, learner, link, other, runPath

  before(async () => {
    ;({ env, server, browser, page } = await openSession())
  })

  after(() => closeSession({ env, server, browser }))

  test('the administrator chooses sign-in links instead of passwords; the run emails a link below the mount point', async () => {
    const file = join(env.dir, 'links.csv')
    writeFileSync(file, 'firstname,lastname,emailaddress\nAroha,Ngata,aroha@example.org\nMere,Parata,mere@example.org\n')
    await upload(page, file)
    await page.getByRole('button', { name: 'Continue to settings' }).click()
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
    assert.equal(res.body.summary.invitations, 2)
    assert.equal(res.body.summary.passwords, 0)

    await page.getByRole('button', { name: 'Approve and run' }).click()
    await page.getByRole('heading', { name: 'Run' }).waitFor()
    runPath = appPath(page)
    await page.getByRole('link', { name: 'See the results' }).waitFor({ timeout: 60_000 })
    assert.match(await page.getByRole('status').filter({ hasText: 'rows done' }).textContent(), /^Finished: 2 of 2 rows done\. created 2/)

    const linkTo = async (email) => {
      const mail = await until(() => outbox(env).find((m) => m.text.includes(email)), 20_000, `the welcome email to ${email}`)
      const found = new RegExp(`${server.base}${PREFIX}/invitations/[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])`).exec(mail.text)?.[0]
      assert.ok(found, `a sign-in link below ${server.base}${PREFIX} in: ${mail.text}`)
      assert.ok(!/Password: /.test(mail.text), 'no password in the email')
      return found
    }
    link = await linkTo('aroha@example.org')
    other = await linkTo('mere@example.org')
    assert.notEqual(link, other, 'a personal link each')
  })

  test('the link opens a form to choose a password; a weak one is refused, a strong one is set', async () => {
    assert.ok(link, 'the run emailed a link')
    // The user's own browser: no administrator's session.
    learner = await newPage(browser, server.base)
    await learner.goto(link)
    await learner.getByRole('heading', { name: 'Choose your password' }).waitFor()
    await assertAccessible(null, learner, assert)

    await learner.getByLabel('New password').fill('password123')
    await learner.getByLabel('Repeat the password').fill('password123')
    await learner.getByRole('button', { name: 'Set my password' }).click()
    await learner.getByRole('alert').filter({ hasText: /too easy to guess/ }).waitFor()

    await learner.getByLabel('New password').fill('Kowhai-tree-by-the-river-42')
    await learner.getByLabel('Repeat the password').fill('Kowhai-tree-by-the-river-4')
    await learner.getByRole('button', { name: 'Set my password' }).click()
    await learner.getByRole('alert').filter({ hasText: 'The two passwords differ.' }).waitFor()

    await learner.getByLabel('Repeat the password').fill('Kowhai-tree-by-the-river-42')
    await learner.getByRole('button', { name: 'Set my password' }).click()
    await learner.getByRole('heading', { name: 'Your password is set' }).waitFor()
    const signIn = learner.getByRole('link', { name: 'Sign in' })
    assert.equal(await signIn.getAttribute('href'), `${server.base}${PREFIX}`)
    await assertAccessible(null, learner, assert)
    assert.deepEqual(learner.problems, [])
    if (passwordWorks) {
      // The LMS's own sign-in takes the password (Django's Argon2 hasher, the Express and Rails LMSes' checks).
      assert.equal(passwordWorks(env, 'aroha@example.org', 'Kowhai-tree-by-the-river-42'), true)
      assert.equal(passwordWorks(env, 'aroha@example.org', 'Kowhai-tree-by-the-river-4'), false)
    }

    if (TARGET === 'rust') {
      // The CLI says the same of the link, and never prints its token.
      const token = link.split('/').pop()
      const r = spawnSync(BIN, ['invite', 'verify', token, '--db', env.db], { env: binEnv(), encoding: 'utf8' })
      assert.equal(r.status, 6, 'the link is used up')
      assert.match(r.stderr, /invitation_used/)
      assert.ok(!r.stderr.includes(token) && !r.stdout.includes(token), 'the token is never printed')
    }
  })

  test('a used link says so and offers no form; an unknown one is not valid', async () => {
    assert.ok(learner, 'the link was used')
    await learner.goto(link)
    await learner.getByRole('heading', { name: 'This link does not work' }).waitFor()
    await learner.getByText('This link was used already').waitFor()
    assert.equal(await learner.getByLabel('New password').count(), 0)
    await assertAccessible(null, learner, assert)
    await learner.goto(`${server.base}${PREFIX}/invitations/${'A'.repeat(43)}`)
    await learner.getByText('This link is not valid').waitFor()
  })

  test('undoing the upload revokes the links still unused; a used one stays used', async () => {
    assert.ok(other && runPath, 'the run emailed links')
    await learner.goto(other)
    await learner.getByRole('heading', { name: 'Choose your password' }).waitFor()

    await page.goto(`${runPath}/results`)
    await page.getByRole('button', { name: 'Undo this run' }).click()
    await page.getByRole('heading', { name: 'Preview of the undo' }).waitFor()
    await page.getByRole('button', { name: 'Approve and run' }).click()
    await page.getByRole('heading', { name: 'Undo run' }).waitFor()
    await page.getByRole('link', { name: 'See the results' }).click({ timeout: 60_000 })
    await page.getByRole('heading', { name: 'Results of the undo' }).waitFor()

    await learner.goto(other)
    await learner.getByRole('heading', { name: 'This link does not work' }).waitFor()
    await learner.getByText('This link is not valid').waitFor()
    assert.equal(await learner.getByLabel('New password').count(), 0)
    await learner.goto(link)
    await learner.getByText('This link was used already').waitFor()
  })
})
