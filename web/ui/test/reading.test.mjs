// What the integration added, on the screens: a workbook read by content (its format and
// sheet shown, another sheet chosen), a CSV file in a legacy code page (the names read
// right, another encoding named and the names change), and the setting
// reactivate_suspended_users (off: a user an upload suspended stays suspended).
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { api, assertAccessible, closeSession, openSession, ROOT, test, until, upload } from './harness.mjs'

const SHEETS = join(ROOT, 'core/tests/fixtures/spreadsheets')

let env, server, browser, page

before(async () => {
  ;({ env, server, browser, page } = await openSession())
})

after(() => closeSession({ env, server, browser }))

const sample = () => page.getByRole('table', { name: /as the engine read them/ })
const fileReport = () => page.getByRole('region', { name: 'File report' })

test('a workbook: its format and sheet shown, the names read right, another sheet chosen', async () => {
  await upload(page, join(SHEETS, 'staff.xlsx'))
  await fileReport().getByText('Excel workbook (.xlsx)').waitFor()
  assert.equal(await fileReport().getByText('Staff', { exact: true }).count(), 1, 'the sheet read')
  await sample().getByRole('cell', { name: 'Łukasz', exact: true }).waitFor()
  await sample().getByRole('cell', { name: 'Świątek', exact: true }).waitFor()
  await sample().getByRole('cell', { name: '李', exact: true }).waitFor()
  await assertAccessible(null, page, assert)

  const sheet = page.getByLabel('Sheet of the workbook')
  assert.deepEqual(await sheet.locator('option').allTextContents(), ['Staff', 'Managers'])
  await sheet.selectOption('Managers')
  await page.getByRole('button', { name: 'Read this sheet' }).click()
  await page.getByRole('status').getByText(/read again \(sheet Managers\)/).waitFor()
  await sample().getByRole('cell', { name: 'Mere', exact: true }).waitFor()
  assert.equal(await sample().getByRole('cell', { name: 'Łukasz', exact: true }).count(), 0)
  // Stored with the upload: a reload reads the same sheet.
  await page.reload()
  await sample().getByRole('cell', { name: 'Tū', exact: true }).waitFor()
  assert.equal(await page.getByLabel('Sheet of the workbook').inputValue(), 'Managers')
})

test('a CSV file in Windows-1250: the names read right; naming another encoding changes them', async () => {
  await upload(page, join(SHEETS, 'windows1250_polish.csv'))
  await fileReport().getByText('windows-1250', { exact: true }).waitFor()
  await page.getByText(/encoding_guessed/).first().waitFor()
  await sample().getByRole('cell', { name: 'Łukasz', exact: true }).waitFor()
  await sample().getByRole('cell', { name: 'Wójcik-Łęcka', exact: true }).waitFor()
  await assertAccessible(null, page, assert)

  const encoding = page.getByLabel('Encoding of the file')
  assert.equal(await encoding.inputValue(), '', 'detected, not named')
  await encoding.selectOption('windows-1252')
  await page.getByRole('button', { name: 'Read with this encoding' }).click()
  await page.getByRole('status').getByText(/read again \(encoding windows-1252\)/).waitFor()
  await sample().getByRole('cell', { name: '£ukasz', exact: true }).waitFor()
  assert.equal(await sample().getByRole('cell', { name: 'Łukasz', exact: true }).count(), 0)
  await page.getByText('Read as windows-1252, as you named it.').waitFor()
  // Back to detection: the right names again.
  await page.getByLabel('Encoding of the file').selectOption('')
  await page.getByRole('button', { name: 'Read with this encoding' }).click()
  await sample().getByRole('cell', { name: 'Łukasz', exact: true }).waitFor()
})

test('the file picker takes spreadsheets', async () => {
  await page.goto('/uploads/new')
  const accept = await page.getByLabel('Choose a file').getAttribute('accept')
  for (const ext of ['.xlsx', '.xls', '.ods', '.csv', '.txt']) assert.ok(accept.split(',').includes(ext), `${ext} in ${accept}`)
})

async function finish(planId) {
  const run = (await api(page, 'POST', `/api/plans/${planId}/approve`)).body
  await until(async () => ['finished', 'cancelled'].includes((await api(page, 'GET', `/api/runs/${run.id}`)).body.state), 30_000, 'the run')
  return run.id
}

test('reactivate_suspended_users: off by default, a user an upload suspended stays so; on, it is reactivated', async () => {
  const file = { name: 'rua.csv', mimeType: 'text/csv', buffer: Buffer.from('firstname,lastname,emailaddress\nRua,Kereama,rua.kereama@example.nz\n') }
  // Rua is created, then the upload is undone without deleting: Rua is suspended by an upload.
  await upload(page, file)
  const uploadId = new URL(page.url()).pathname.split('/').pop()
  const created = (await api(page, 'POST', `/api/uploads/${uploadId}/plans`, { settings: {} })).body
  const runId = await finish(created.id)
  const undo = (await api(page, 'POST', `/api/runs/${runId}/undo`, { delete_created_users: false })).body
  assert.equal(undo.summary.suspensions, 1, JSON.stringify(undo.summary))
  await finish(undo.id)

  await upload(page, file)
  await page.getByRole('button', { name: 'Continue to settings' }).click()
  const reactivate = page.getByLabel('Reactivate suspended users named in the file')
  assert.equal(await reactivate.isChecked(), false, 'off by default')
  await assertAccessible(null, page, assert)
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  await page.getByText(/is suspended and stays so: reactivate_suspended_users is off/).waitFor()
  assert.equal(await page.getByText('Reactivate the user').count(), 0)

  await page.goBack()
  await page.getByRole('heading', { name: /^Settings/ }).waitFor()
  await page.getByLabel('Reactivate suspended users named in the file').check()
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  await page.getByText('Reactivate the user').waitFor()
  const planId = new URL(page.url()).pathname.split('/').pop()
  const plan = (await api(page, 'GET', `/api/plans/${planId}`)).body
  assert.equal(plan.settings.reactivate_suspended_users, true)
  assert.equal(plan.summary.reactivations, 1)
})
