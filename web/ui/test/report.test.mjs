// The validation report against the real server: column matching (the engine's suggestion,
// a column assigned by hand, re-validated), the issues filtered to errors, a cell fixed in
// place and the corrected file downloaded; and hostile values shown as text, never run.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { api, appPath, assertAccessible, closeSession, DATA, generatedCsv, openSession, screenshot, test, upload } from './harness.mjs'

let env, server, browser, page

before(async () => {
  ;({ env, server, browser, page } = await openSession())
})

after(() => closeSession({ env, server, browser }))

const uploadId = () => appPath(page).split('/')[2]

test('column matching: each header and its field, an unknown column with the suggestion, assigned by hand and re-validated', async (t) => {
  await upload(page, join(DATA, 'columns.csv'))
  const columns = page.getByRole('table', { name: 'Which column of the file became which field' })
  assert.equal(await page.getByLabel('Field for column Email Address').inputValue(), 'emailaddress')
  const cuntry = columns.getByRole('row').filter({ hasText: 'Cuntry' })
  await cuntry.getByText('Unknown column, ignored').waitFor()
  await cuntry.getByText('Did you mean country?').waitFor()
  assert.equal(await page.getByLabel('Field for column Cuntry').inputValue(), '')
  await screenshot(page, 'column-matching')
  await assertAccessible(t, page, assert)
  const before = (await api(page, 'GET', `/api/uploads/${uploadId()}`)).body

  await page.getByRole('button', { name: 'Use country for column Cuntry' }).click()
  await page.getByLabel('Field for column Team').selectOption('addgroup')
  await page.getByRole('button', { name: 'Apply columns and re-validate' }).click()
  await page.getByText(/^Columns applied; the file was re-validated/).waitFor()
  assert.equal(await page.getByLabel('Field for column Cuntry').inputValue(), 'country')
  assert.equal(await page.getByLabel('Field for column Team').inputValue(), 'addgroup')
  await columns.getByRole('row').filter({ hasText: 'Cuntry' }).getByText('Assigned by hand').waitFor()
  const afterReport = (await api(page, 'GET', `/api/uploads/${uploadId()}`)).body
  assert.ok(afterReport.version > before.version, 'the upload changed')
  assert.deepEqual(
    afterReport.columns.filter((c) => c.assigned).map((c) => [c.header, c.field]),
    [['Cuntry', 'country'], ['Team', 'addgroup']],
  )

  // The corrected file carries the assigned headers.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the corrected file' }).click()])
  const text = readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, '')
  const header = text.split(/\r?\n/)[0].toLowerCase()
  assert.match(header, /country/)
  assert.doesNotMatch(header, /cuntry/)

  // Ignoring a matched column by hand.
  await page.getByLabel('Field for column Team').selectOption('')
  await page.getByRole('button', { name: 'Apply columns and re-validate' }).click()
  await columns.getByRole('row').filter({ hasText: 'Team' }).getByText('Ignored by hand').waitFor()
  const ignored = (await api(page, 'GET', `/api/uploads/${uploadId()}`)).body
  assert.equal(ignored.columns.find((c) => c.header === 'Team').field, null)
})

test('issues filtered to errors, a cell fixed in place re-validated by the engine, the corrected file', async () => {
  await upload(page, join(DATA, 'staff.csv'))
  const issues = page.getByRole('table', { name: 'Issues found in the file, one page at a time' })
  await issues.getByRole('cell', { name: 'wiremu.tane(at)example.co.nz', exact: true }).waitFor()
  await page.getByLabel('Errors only').check()
  const rows = issues.locator('tbody tr')
  await issues.getByRole('cell', { name: 'wiremu.tane(at)example.co.nz', exact: true }).waitFor()
  for (const text of await rows.allTextContents()) assert.match(text, /Error:/)

  // A value that is still wrong: the row stays invalid, the issue stays.
  await page.getByRole('button', { name: 'Fix line 7, column Email Address' }).click()
  await page.getByLabel('New value for Email Address on line 7').fill('still wrong')
  await page.getByRole('button', { name: 'Save and re-validate' }).click()
  await page.getByText(/^Line 7 re-validated:/).waitFor()
  await issues.getByRole('cell', { name: 'still wrong', exact: true }).waitFor()

  await page.getByRole('button', { name: 'Fix line 7, column Email Address' }).click()
  await page.getByLabel('New value for Email Address on line 7').fill('wiremu.tane@example.co.nz')
  await page.getByRole('button', { name: 'Save and re-validate' }).click()
  await page.getByText('Line 7 fixed and re-validated: the row is valid.').waitFor()
  await issues.getByRole('cell', { name: 'No issues.', exact: true }).waitFor()
  const report = (await api(page, 'GET', `/api/uploads/${uploadId()}`)).body
  assert.equal(report.error_rows, 0)
  assert.equal(report.valid_rows, 8)

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the corrected file' }).click()])
  const text = readFileSync(await download.path(), 'utf8')
  assert.match(text, /wiremu\.tane@example\.co\.nz/)
  assert.doesNotMatch(text, /\(at\)/)
  assert.deepEqual(page.problems, [])
})

test('a big file: the DOM holds one page of issues, the pages come from the server', async () => {
  const file = generatedCsv(env.dir, 1200, 'paged')
  // Every third email is broken: 400 errors, 8 pages of 50.
  const { readFileSync: read, writeFileSync: write } = await import('node:fs')
  const lines = read(file, 'utf8').split('\n')
  write(file, lines.map((l, i) => (i > 0 && i % 3 === 0 ? l.replace('@', ' at ') : l)).join('\n'))
  await upload(page, file)
  const issues = page.getByRole('table', { name: 'Issues found in the file, one page at a time' })
  const pager = page.getByRole('navigation', { name: 'Pages of issues' })
  await pager.getByText('Page 1 of 8 (400 issues)').waitFor()
  assert.equal(await issues.locator('tbody tr').count(), 50)
  await page.getByRole('table', { name: 'The first 5 of 1200 rows, as the engine read them' }).waitFor()
  assert.equal(
    await page.locator('main tr').count(),
    50 + 1 + 5 + 1 + 5 + 1,
    'one page of issues, the columns table, the first 5 rows, three header rows',
  )
  await pager.getByRole('button', { name: 'Next page' }).click()
  await pager.getByText('Page 2 of 8 (400 issues)').waitFor()
  assert.equal(await issues.locator('tbody tr').count(), 50)
  await issues.getByRole('cell', { name: '184', exact: true }).waitFor()
  assert.equal(await pager.getByRole('button', { name: 'Previous page' }).isEnabled(), true)
})

test('hostile values in every column are shown as text on every screen; nothing runs', async () => {
  await page.evaluate(() => {
    window.pwned = undefined
  })
  // The file's name is hostile too.
  await page.goto('/uploads/new')
  await page.getByLabel('Choose a file').setInputFiles({
    name: "<img src=x onerror=alert('name')>.csv",
    mimeType: 'text/csv',
    buffer: readFileSync(join(DATA, 'hostile.csv')),
  })
  await page.getByRole('heading', { name: /^Validation report: / }).waitFor()
  const check = async (where) => {
    assert.deepEqual(page.dialogs, [], `no alert on ${where}`)
    assert.equal(await page.evaluate(() => window.pwned), undefined, `no script ran on ${where}`)
    const injected = await page.evaluate(() => document.querySelectorAll('main img, main svg, main iframe, main script, main b, main style').length)
    assert.equal(injected, 0, `no element made from a value on ${where}`)
  }
  assert.match(await page.getByRole('heading', { level: 1 }).textContent(), /<img src=x onerror=alert\('name'\)>\.csv/)
  await page.getByText("<img src=x onerror=alert('header')>").first().waitFor()
  await page.getByText("<img src=x onerror=alert('email')>@example.org").first().waitFor()
  await check('the report')

  await page.getByRole('button', { name: 'Continue to settings' }).click()
  await page.getByRole('heading', { name: /^Settings/ }).waitFor()
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  await page.getByText("<img src=x onerror=alert('first')> <script>alert('last')</script>").waitFor()
  await check('the preview')
  await page.getByRole('button', { name: 'Approve and run' }).click()
  await page.getByRole('link', { name: 'See the results' }).click({ timeout: 60_000 })
  await page.getByRole('heading', { name: 'Results' }).waitFor()
  await page.getByRole('cell', { name: 'hostile.one@example.org', exact: true }).waitFor()
  await check('the results')
  await page.getByRole('link', { name: 'History' }).click()
  await page.getByRole('heading', { name: 'History' }).waitFor()
  await check('the history')
  assert.deepEqual(page.problems, [])
})
