// The main flow with the keyboard alone (Tab, Shift+Tab, Enter, Space, arrows, Escape): sign
// in, choose the file, report, settings with Manage Enrolments and Add Groups, preview,
// approve, the run to its results. Focus is always visible.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { closeSession, DATA, focused, openSession, tabTo, test } from './harness.mjs'

let env, server, browser, page

before(async () => {
  ;({ env, server, browser, page } = await openSession({ signInPath: null }))
})

after(() => closeSession({ env, server, browser }))

async function assertFocusVisible() {
  const outline = await page.evaluate(() => {
    const el = document.activeElement
    const s = getComputedStyle(el)
    return { visible: el.matches(':focus-visible'), style: s.outlineStyle, width: parseFloat(s.outlineWidth) }
  })
  assert.ok(outline.visible && outline.style !== 'none' && outline.width >= 2, `focus is visible: ${JSON.stringify(outline)}`)
}

test('the main flow, keyboard only', async () => {
  await page.goto('/')
  await page.getByRole('heading', { name: 'Sign in' }).waitFor()
  await tabTo(page, 'Email')
  await assertFocusVisible()
  await page.keyboard.type(env.email)
  await page.keyboard.press('Tab')
  await page.keyboard.type(env.password)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Upload a file' }).waitFor()

  // The file input, opened with the keyboard, once the screen has settled (its size limit
  // shown: under load, a key pressed before could reach a screen still being drawn).
  // The wait for the chooser starts before the keys are pressed: Playwright turns on its
  // interception of file choosers when a listener is added, without waiting for it, and a
  // Space pressed at the same time could open a chooser it never saw (as happened under
  // load). tabTo's round trips to the page come after that switch.
  await page.getByText(/^Files up to /).waitFor()
  const chooser = page.waitForEvent('filechooser')
  await tabTo(page, 'Choose a file')
  await page.keyboard.press('Space')
  await (await chooser).setFiles(join(DATA, 'columns.csv'))
  await page.getByRole('heading', { name: 'Validation report: columns.csv' }).waitFor()
  assert.equal((await focused(page)).tag, 'h1', 'a new screen moves focus to its heading')

  // Report: the suggested field for the unknown column, applied; on to the settings.
  await tabTo(page, 'Use country for column Cuntry')
  await page.keyboard.press('Enter')
  assert.equal((await focused(page)).name, 'Field for column Cuntry')
  await tabTo(page, 'Apply columns and re-validate')
  await page.keyboard.press('Enter')
  await page.getByText(/^Columns applied/).waitFor()
  await tabTo(page, 'Continue to settings')
  await assertFocusVisible()
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Settings: columns.csv' }).waitFor()

  // Settings: a default password instead of generated ones.
  await tabTo(page, 'Generate passwords and email them to users')
  await page.keyboard.press('Space')
  await page.keyboard.press('Tab')
  assert.equal((await focused(page)).name, 'Default password')
  await page.keyboard.type('Kowhai-Tree-2026!')

  // Manage Enrolments: open, pick with arrows, Add>, Submit; focus comes back.
  await tabTo(page, 'Manage Enrolments')
  await page.keyboard.press('Enter')
  await page.getByRole('dialog', { name: 'Manage Enrolments' }).waitFor()
  await tabTo(page, 'Available')
  await page.keyboard.press('ArrowDown')
  await tabTo(page, 'Add>')
  await page.keyboard.press('Enter')
  assert.equal(await page.getByLabel('Selected').locator('option').count(), 1)
  await tabTo(page, 'Submit')
  await page.keyboard.press('Enter')
  await page.getByRole('dialog', { name: 'Manage Enrolments' }).waitFor({ state: 'hidden' })
  assert.equal((await focused(page)).name, 'Manage Enrolments')

  // Add Groups with the arrows and Enter; x removes with Enter.
  await tabTo(page, 'Add Groups')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Enter')
  const chip = page.getByRole('list', { name: 'Chosen groups' }).getByRole('listitem')
  assert.equal(await chip.count(), 1)
  await tabTo(page, /^Remove group /, { back: true })
  await page.keyboard.press('Enter')
  assert.equal(await chip.count(), 0)
  await tabTo(page, 'Add Groups')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Enter')

  await tabTo(page, 'Preview the changes')
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Preview' }).waitFor()

  // Preview: untick a row with Space, rebuild, approve.
  await tabTo(page, 'Include line 2')
  await page.keyboard.press('Space')
  await tabTo(page, 'Rebuild the plan without the unticked lines')
  await page.keyboard.press('Enter')
  await page.getByText('Excluded lines: 2.').waitFor()
  await tabTo(page, 'Approve and run')
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Run' }).waitFor()
  await page.getByRole('link', { name: 'See the results' }).waitFor({ timeout: 60_000 })
  await tabTo(page, 'See the results')
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Results' }).waitFor()
  await tabTo(page, 'Failed only')
  await page.keyboard.press('Space')
  await page.getByRole('cell', { name: 'No rows.', exact: true }).waitFor()
  assert.deepEqual(page.problems, [])
})
