// The upload screen against the real server started with a small size limit: the limit shown
// and enforced before sending, a dropped file, a file the engine refuses, and a file whose
// email column is not recognised: kept, its column assigned by hand, then plannable.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { api, appPath, assertAccessible, closeSession, DATA, newPage, openSession, test, upload } from './harness.mjs'

const LIMIT = 2000

let env, server, browser, page

before(async () => {
  ;({ env, server, browser, page } = await openSession({ serverOptions: { args: ['--max-file-bytes', String(LIMIT)] }, signInPath: '/uploads/new' }))
})

after(() => closeSession({ env, server, browser }))

test('the size limit is shown and a larger file is refused before it is sent', async () => {
  await page.goto('/uploads/new')
  await page.getByText('Files up to 2.0 KB.').waitFor()
  const big = `firstname,lastname,emailaddress\n${'Ana,Lopez,ana@example.org\n'.repeat(100)}`
  await page.getByLabel('Choose a file').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(big) })
  await page.getByRole('alert').getByText(/big\.csv is 2\.\d KB; files up to 2\.0 KB are accepted\./).waitFor()
  assert.equal(appPath(page), '/uploads/new')
  const runs = await api(page, 'GET', '/api/runs')
  assert.equal(runs.status, 200)
})

test('a file dropped on the drop zone is uploaded and validated', async () => {
  await page.goto('/uploads/new')
  await page.getByText('or drop the file here').waitFor()
  const csv = 'First Name,Last Name,Email Address\nDrop,Ped,dropped@example.org\n'
  const dataTransfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer()
    dt.items.add(new File([text], 'dropped.csv', { type: 'text/csv' }))
    return dt
  }, csv)
  const zone = page.getByText('or drop the file here').locator('..')
  await zone.dispatchEvent('dragover', { dataTransfer })
  await zone.dispatchEvent('drop', { dataTransfer })
  await page.getByRole('heading', { name: 'Validation report: dropped.csv' }).waitFor()
})

test('a file the engine refuses: its code and message shown, nothing else', async (t) => {
  await page.goto('/uploads/new')
  await page.getByLabel('Choose a file').setInputFiles({ name: 'empty.csv', mimeType: 'text/csv', buffer: Buffer.from('') })
  const alert = page.getByRole('alert')
  await alert.locator('code').first().waitFor()
  assert.match(await alert.textContent(), /[a-z_]+/)
  assert.equal(appPath(page), '/uploads/new')
  await assertAccessible(t, page, assert)
})

test('an unrecognised email column: the file is kept, the column assigned by hand, the file then planned', async () => {
  await upload(page, join(DATA, 'header.csv'))
  assert.equal(await page.getByRole('button', { name: 'Continue to settings' }).isDisabled(), true)
  await page.getByRole('heading', { name: 'About the whole file' }).waitFor()
  await page.getByLabel('Field for column E-mail Adress').selectOption('emailaddress')
  await page.getByRole('button', { name: 'Apply columns and re-validate' }).click()
  await page.getByText(/^Columns applied/).waitFor()
  assert.equal(await page.getByRole('button', { name: 'Continue to settings' }).isEnabled(), true)
  const id = appPath(page).split('/')[2]
  const report = (await api(page, 'GET', `/api/uploads/${id}`)).body
  assert.equal(report.can_plan, true)
  assert.equal(report.valid_rows, 2)

  // Back to automatic matching: the file is refused again.
  await page.getByRole('button', { name: 'Match column E-mail Adress automatically' }).click()
  await page.getByRole('button', { name: 'Match column E-mail Adress automatically' }).waitFor({ state: 'detached' })
  assert.equal(await page.getByRole('button', { name: 'Continue to settings' }).isDisabled(), true)
  assert.deepEqual(page.problems, [])
})

test('sign-in: a wrong password is refused with its code, and a screen URL waits behind sign-in', async () => {
  const other = await newPage(browser, server.base)
  await other.goto('/runs')
  await other.getByRole('heading', { name: 'Sign in' }).waitFor()
  assert.equal(new URL(other.url()).search, '?next=%2Fruns')
  await other.getByLabel('Email').fill(env.email)
  await other.getByLabel('Password').fill('not the password')
  await other.getByRole('button', { name: 'Sign in' }).click()
  await other.getByRole('alert').getByText('invalid_credentials').waitFor()
  await other.getByLabel('Password').fill(env.password)
  await other.getByRole('button', { name: 'Sign in' }).click()
  await other.getByRole('heading', { name: 'History' }).waitFor()
  await other.context().close()
})

test('sign-in never sends the browser to another site (next= is an app path or nothing)', async () => {
  for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
    const other = await newPage(browser, server.base)
    await other.goto(`/sign-in?next=${encodeURIComponent(next)}`)
    await other.getByLabel('Email').fill(env.email)
    await other.getByLabel('Password').fill(env.password)
    await other.getByRole('button', { name: 'Sign in' }).click()
    await other.getByRole('heading', { name: 'Upload a file' }).waitFor()
    assert.equal(new URL(other.url()).origin, server.base)
    assert.equal(appPath(other), '/')
    await other.context().close()
  }
})
