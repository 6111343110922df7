// Runs against the real server: per-row exclusion (the plan rebuilt on the server), cancel
// of a running run, and a run that finishes after the server is killed (SIGKILL) and
// restarted. A slower argon2 makes a run last long enough to be caught mid-way.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { api, assertAccessible, closeSession, DATA, generatedCsv, openSession, screenshot, startServer, test, until, upload } from './harness.mjs'

// Each generated password costs an argon2id hash of this cost: slow enough to cancel or kill
// a run mid-way, fast enough for the suite. The run that is killed and resumed hashes every
// row (and the rows of its first batches twice): three batches of 256 rows, so that it does
// not take both cores from the suite running beside it for long.
const SLOW = { BULK_UPLOAD_ARGON2_MEMORY_KIB: '8192', BULK_UPLOAD_ARGON2_ITERATIONS: '2' }
const ROWS = 1500
const RESUMED_ROWS = 768

let env, server, browser, page

before(async () => {
  ;({ env, server, browser, page } = await openSession({ serverOptions: { extraEnv: SLOW } }))
})

after(() => closeSession({ env, server, browser }))

async function planAndApprove(file) {
  await upload(page, file)
  await page.getByRole('button', { name: 'Continue to settings' }).click()
  await page.getByRole('heading', { name: /^Settings/ }).waitFor()
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  await page.getByRole('button', { name: 'Approve and run' }).click()
  await page.getByRole('heading', { name: 'Run' }).waitFor()
  return new URL(page.url()).pathname.split('/').pop()
}

const run = async (id) => (await api(page, 'GET', `/api/runs/${id}`)).body

test('per-row exclusion: unticked lines are left out of a plan rebuilt on the server', async () => {
  await upload(page, join(DATA, 'staff.csv'))
  await page.getByRole('button', { name: 'Continue to settings' }).click()
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  const first = new URL(page.url()).pathname
  await page.getByLabel('Include line 3').uncheck()
  await page.getByLabel('Include line 5').uncheck()
  await page.getByText('2 line(s) to leave out.').waitFor()
  await page.getByRole('button', { name: 'Rebuild the plan without the unticked lines' }).click()
  await page.getByText('Excluded lines: 3, 5.').waitFor()
  assert.notEqual(new URL(page.url()).pathname, first, 'a new plan')
  const planId = new URL(page.url()).pathname.split('/').pop()
  const plan = (await api(page, 'GET', `/api/plans/${planId}`)).body
  assert.deepEqual(plan.excluded_lines, [3, 5])
  const table = page.getByRole('table', { name: /Each row of the plan/ })
  assert.equal(await table.getByRole('cell', { name: 'tama.whaanga@example.co.nz', exact: true }).count(), 0)
  assert.equal(await table.getByRole('cell', { name: 'oliver.smith@example.co.uk', exact: true }).count(), 0)
  await screenshot(page, 'preview-excluded')
  // The rows filtered by action, on the server.
  const pager = page.getByRole('navigation', { name: 'Pages of rows' })
  await page.getByLabel('Show').selectOption('rejected')
  await pager.getByText('Page 1 of 1 (1 row)').waitFor()
  await table.getByRole('cell', { name: '7', exact: true }).waitFor()
  await page.getByLabel('Show').selectOption('create')
  await pager.getByText('Page 1 of 1 (5 rows)').waitFor()
  assert.equal(await table.getByRole('cell', { name: '7', exact: true }).count(), 0)
  await page.getByLabel('Show').selectOption('')

  await page.getByRole('button', { name: 'Approve and run' }).click()
  await page.getByRole('link', { name: 'See the results' }).click({ timeout: 60_000 })
  await page.getByRole('heading', { name: 'Results' }).waitFor()
  const results = page.getByRole('table', { name: 'What happened to each row' })
  await results.getByRole('cell', { name: 'aroha.ngata@example.co.nz', exact: true }).waitFor()
  assert.equal(await results.getByRole('cell', { name: 'tama.whaanga@example.co.nz', exact: true }).count(), 0)
  // The failed-only filter: nothing failed here.
  await page.getByLabel('Failed only').check()
  await results.getByRole('cell', { name: 'No rows.', exact: true }).waitFor()
})

test('a screen shows its heading alone until its rows are in: nothing moves under the pointer', async () => {
  await upload(page, join(DATA, 'staff.csv'))
  await page.getByRole('button', { name: 'Continue to settings' }).click()
  await page.getByRole('heading', { name: /^Settings/ }).waitFor()
  // The preview's first page of rows is held back until the screen has been looked at.
  const rows = /\/api\/plans\/[^/]+\/rows/
  let release
  const held = new Promise((r) => (release = r))
  await page.route(rows, async (route) => {
    await held
    await route.continue()
  })
  try {
    const asked = page.waitForRequest(rows)
    await page.getByRole('button', { name: 'Preview the changes' }).click()
    await page.getByRole('heading', { name: 'Preview' }).waitFor()
    await asked
    const approve = page.getByRole('button', { name: 'Approve and run' })
    assert.equal(await page.locator('bu-preview').getAttribute('aria-busy'), 'true')
    assert.equal(await approve.isVisible(), false, 'no button before the rows above it are in')
    release()
    await approve.waitFor()
    assert.equal(await page.locator('bu-preview').getAttribute('aria-busy'), null)
    await page.getByRole('table', { name: /Each row of the plan/ }).getByRole('cell', { name: 'aroha.ngata@example.co.nz', exact: true }).waitFor()
  } finally {
    release()
    await page.unroute(rows)
  }
})

test('cancel: a running run stops between rows; what was written stays and can be undone', async (t) => {
  const id = await planAndApprove(generatedCsv(env.dir, ROWS, 'cancel'))
  await page.getByText(/^[1-9][\d,]* of 1,500 rows · Running$/).waitFor({ timeout: 30_000 })
  await screenshot(page, 'run-progress')
  await assertAccessible(t, page, assert)
  await page.getByRole('button', { name: 'Cancel the run' }).click()
  await page.getByRole('status').filter({ hasText: /^Cancelled\./ }).waitFor({ timeout: 30_000 })
  const ended = await run(id)
  assert.equal(ended.state, 'cancelled')
  assert.ok(ended.counts.created > 0 && ended.counts.created < ROWS, `stopped part-way (${ended.counts.created} of ${ROWS} created)`)
  await page.getByRole('link', { name: 'See the results' }).click()
  await page.getByRole('heading', { name: 'Results' }).waitFor()
  await page.getByRole('button', { name: 'Undo this run' }).waitFor()
  const cancelAgain = await api(page, 'POST', `/api/runs/${id}/cancel`)
  assert.equal(cancelAgain.status, 409)
  assert.equal(cancelAgain.body.code, 'run_not_running')
})

test('a run survives the server being killed: restarted, it resumes and finishes, and the page follows', async () => {
  const id = await planAndApprove(generatedCsv(env.dir, RESUMED_ROWS, 'resume'))
  await until(async () => (await run(id)).progress.done > 0, 30_000, 'the run to start')
  await server.stop('SIGKILL')
  server = await startServer(env, { port: server.port, extraEnv: SLOW })
  // The run's page, opened again (signing in again if the session did not survive), follows
  // the resumed run to its end.
  await page.goto(`/runs/${id}`)
  await page.getByRole('heading', { name: /^(Run|Sign in)$/ }).waitFor()
  if (await page.getByRole('heading', { name: 'Sign in' }).isVisible()) {
    await page.getByLabel('Email').fill(env.email)
    await page.getByLabel('Password').fill(env.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Run' }).waitFor()
  }
  await page.getByRole('link', { name: 'See the results' }).waitFor({ timeout: 90_000 })
  await page.getByText(`Finished: ${RESUMED_ROWS} of ${RESUMED_ROWS} rows done.`).waitFor()
  const done = await run(id)
  assert.equal(done.state, 'finished')
  assert.equal(done.progress.done, RESUMED_ROWS)
  const created = (await api(page, 'GET', `/api/runs/${id}/results?per_page=1`)).body
  assert.equal(created.total, RESUMED_ROWS, 'every row once')
  assert.deepEqual(page.problems.filter((p) => !/EventSource|ERR_CONNECTION|net::/.test(p)), [])
})
