// The seed's flow end to end in a real browser against the real server: sign in, upload,
// report, a cell fixed, settings, Manage Enrolments, Add Groups, preview, approve, live
// progress, the confirmation email's link followed to the results after sign-in, undo,
// history; axe-core on every screen; a screenshot of every screen for the README.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { appPath, assertAccessible, closeSession, DATA, openSession, outbox, screenshot, test, until } from './harness.mjs'

let env, server, browser, page

before(async () => {
  ;({ env, server, browser, page } = await openSession({ signInPath: null }))
})

after(() => closeSession({ env, server, browser }))

test('the seed flow: upload, report, settings, enrolments, groups, preview, run, email, results, undo, history', async (t) => {
  await page.goto('/')
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  assert.match(page.url(), /\/sign-in\?next=/)
  await screenshot(page, 'sign-in')
  await assertAccessible(t, page, assert)
  await page.getByLabel('Email').fill(env.email)
  await page.getByLabel('Password').fill(env.password)
  await page.getByRole('button', { name: 'Sign in' }).click()

  // Upload: the limit shown, the file chosen.
  await page.getByRole('heading', { name: 'Upload a file' }).waitFor()
  await page.getByText(/^Files up to/).waitFor()
  await screenshot(page, 'upload')
  await assertAccessible(t, page, assert)
  await page.getByLabel('Choose a file').setInputFiles(join(DATA, 'staff.csv'))

  // Validation report: counts, the one bad email, fixed in place.
  await page.getByRole('heading', { name: 'Validation report: staff.csv' }).waitFor()
  const report = page.getByRole('region', { name: 'File report' })
  const figure = (name) => report.locator('div', { has: page.locator('dt', { hasText: new RegExp(`^${name}$`) }) }).locator('dd').textContent()
  assert.equal(await figure('Format'), 'CSV text')
  assert.equal(await figure('Rows'), '8')
  assert.equal(await figure('Rows with errors'), '1', 'one row with errors')
  await page.getByRole('cell', { name: 'wiremu.tane(at)example.co.nz', exact: true }).waitFor()
  await screenshot(page, 'report')
  await assertAccessible(t, page, assert)
  await page.getByRole('button', { name: 'Fix line 7, column Email Address' }).click()
  await page.getByLabel('New value for Email Address on line 7').fill('wiremu.tane@example.co.nz')
  await page.getByRole('button', { name: 'Save and re-validate' }).click()
  await page.getByText('Line 7 fixed and re-validated: the row is valid.').waitFor()
  assert.equal(await figure('Rows with errors'), '0')
  await page.getByRole('button', { name: 'Continue to settings' }).click()

  // Settings: the seed's defaults, Manage Enrolments, Add Groups.
  await page.getByRole('heading', { name: 'Settings: staff.csv' }).waitFor()
  assert.equal(await page.getByLabel('Generate passwords and email them to users').isChecked(), true)
  await page.getByRole('button', { name: 'Manage Enrolments' }).click()
  const dialog = page.getByRole('dialog', { name: 'Manage Enrolments' })
  await dialog.waitFor()
  await dialog.getByLabel('Course').check()
  await dialog.getByLabel('Search by name').fill('induction')
  await dialog.getByLabel('Available').selectOption({ label: 'Company induction' })
  await dialog.getByRole('button', { name: 'Add>' }).click()
  await dialog.getByLabel('Campaign').check()
  await dialog.getByLabel('Search by name').fill('')
  await dialog.getByLabel('Available').selectOption({ label: 'Wellbeing week' })
  await dialog.getByRole('button', { name: 'Add>' }).click()
  await screenshot(page, 'enrolments')
  await assertAccessible(t, page, assert)
  await dialog.getByRole('button', { name: 'Submit' }).click()
  await page.getByRole('list', { name: 'Selected enrolments' }).getByText('Course: Company induction').waitFor()
  await page.getByRole('list', { name: 'Selected enrolments' }).getByText('Campaign: Wellbeing week').waitFor()
  for (const g of ['Sales', 'New Starters']) {
    await page.getByLabel('Add Groups').selectOption(g)
    await page.getByRole('button', { name: 'Add group' }).click()
  }
  await page.getByRole('button', { name: 'Remove group Sales' }).waitFor()
  await screenshot(page, 'settings')
  await assertAccessible(t, page, assert)
  await page.getByRole('button', { name: 'Preview the changes' }).click()

  // Preview: 8 creates, memberships and enrolments shown, the undo note.
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  await page.getByText(/results page offers Undo/).waitFor()
  const rows = page.getByRole('table', { name: /Each row of the plan/ })
  await rows.getByRole('cell', { name: 'aroha.ngata@example.co.nz', exact: true }).waitFor()
  const firstRow = rows.getByRole('row').filter({ hasText: 'aroha.ngata@example.co.nz' })
  const ops = await firstRow.textContent()
  assert.match(ops, /induction-101|Company induction/)
  assert.match(ops, /New Starters/)
  await screenshot(page, 'preview')
  await assertAccessible(t, page, assert)
  await page.getByRole('button', { name: 'Approve and run' }).click()

  // Run: progress pushed by the server, announced; the end links to the results.
  await page.getByRole('heading', { name: 'Run' }).waitFor()
  assert.match(page.url(), /\/runs\/[^/]+$/)
  const runPath = appPath(page)
  await page.getByRole('link', { name: 'See the results' }).waitFor({ timeout: 60_000 })
  assert.match(await page.getByRole('status').filter({ hasText: 'rows done' }).textContent(), /^Finished: 8 of 8 rows done\. created 8/)
  assert.equal(await page.getByRole('progressbar').getAttribute('aria-valuetext'), '8 of 8 rows')
  await screenshot(page, 'run')
  await assertAccessible(t, page, assert)

  // The confirmation email to the uploader links to the results; followed after sign-in.
  const mail = await until(
    () => outbox(env).find((m) => m.text.includes(env.email) && /\/runs\/[^/\s"<>]+\/results/.test(m.text)),
    20_000,
    'the confirmation email',
  )
  const link = /(https?:\/\/[^\s"<>]+\/runs\/[^/\s"<>]+\/results)/.exec(mail.text)[1]
  assert.equal(appPath(link), `${runPath}/results`)
  await page.getByRole('button', { name: 'Sign out' }).click()
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.goto(link)
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await page.getByLabel('Email').fill(env.email)
  await page.getByLabel('Password').fill(env.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Results' }).waitFor()
  assert.equal(appPath(page), `${runPath}/results`)
  await page.getByRole('cell', { name: 'noah.williams@example.co.uk', exact: true }).waitFor()
  await screenshot(page, 'results')
  await assertAccessible(t, page, assert)

  // The results CSV downloads.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the results (CSV)' }).click()])
  const csv = readFileSync(await download.path(), 'utf8')
  assert.match(csv, /aroha\.ngata@example\.co\.nz/)

  // Undo: previewed, approved, run like any other.
  await page.getByRole('button', { name: 'Undo this run' }).click()
  await page.getByRole('heading', { name: 'Preview of the undo' }).waitFor()
  await screenshot(page, 'undo-preview')
  await assertAccessible(t, page, assert)
  await page.getByRole('button', { name: 'Approve and run' }).click()
  await page.getByRole('heading', { name: 'Undo run' }).waitFor()
  await page.getByRole('link', { name: 'See the results' }).click({ timeout: 60_000 })
  await page.getByRole('heading', { name: 'Results of the undo' }).waitFor()

  // History: both runs, the first marked undone.
  await page.getByRole('link', { name: 'History' }).click()
  await page.getByRole('heading', { name: 'History' }).waitFor()
  const history = page.getByRole('table', { name: 'Every run, newest first' })
  await history.getByRole('link', { name: 'Undone' }).waitFor()
  assert.equal(await history.getByRole('row').count(), 3, 'a header and two runs')
  await screenshot(page, 'history')
  await assertAccessible(t, page, assert)

  assert.deepEqual(page.problems, [])
  assert.deepEqual(page.dialogs, [])
})
