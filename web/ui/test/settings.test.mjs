// Each setting rule of the seed, the host-needs settings, the Manage Enrolments dialog (focus
// trapped, Escape closes and gives focus back, Add> / <Del / Clear / Submit, search) and the
// group chips, against the real server.
import { after, before } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { api, appPath, assertAccessible, closeSession, DATA, focused, openSession, test, upload } from './harness.mjs'

let env, server, browser, page, settingsUrl

before(async () => {
  ;({ env, server, browser, page } = await openSession())
  await upload(page, join(DATA, 'columns.csv'))
  settingsUrl = `${appPath(page)}/settings`
})

after(() => closeSession({ env, server, browser }))

async function openSettings() {
  await page.goto(settingsUrl)
  await page.getByRole('heading', { name: /^Settings/ }).waitFor()
}

async function planSettings() {
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  await page.getByRole('heading', { name: 'Preview' }).waitFor()
  const id = new URL(page.url()).pathname.split('/').pop()
  const res = await api(page, 'GET', `/api/plans/${id}`)
  assert.equal(res.status, 200)
  return res.body
}

test('generate passwords is on by default; the default password field and the notification choice follow it', async () => {
  await openSettings()
  const generate = page.getByLabel('Generate passwords and email them to users')
  const notify = page.getByLabel('Send a notification email to new users')
  assert.equal(await generate.isChecked(), true)
  assert.equal(await page.getByLabel('Default password').isVisible(), false, 'no default password while passwords are generated')
  assert.equal(await notify.isDisabled(), true, 'notification is not a choice while passwords are generated')
  assert.equal(await notify.isChecked(), true)

  await generate.uncheck()
  assert.equal(await page.getByLabel('Default password').isVisible(), true)
  assert.equal(await notify.isEnabled(), true)
  await notify.uncheck()
  await page.getByLabel('Default password').fill('Kowhai-Tree-2026!')
  const plan = await planSettings()
  assert.equal(plan.settings.generate_passwords, false)
  assert.equal(plan.settings.send_notification_email, false)
  assert.ok(!JSON.stringify(plan).includes('Kowhai-Tree-2026!'), 'the default password is never echoed back')

  await openSettings()
  await page.getByLabel('Generate passwords and email them to users').uncheck()
  await page.getByLabel('Send a notification email to new users').uncheck()
  await page.getByLabel('Generate passwords and email them to users').check()
  assert.equal(await page.getByLabel('Send a notification email to new users').isChecked(), true, 'generated passwords are always emailed')
})

test('passwords not generated and no default password: the form says so and nothing is planned', async () => {
  await openSettings()
  await page.getByLabel('Generate passwords and email them to users').uncheck()
  await page.getByRole('button', { name: 'Preview the changes' }).click()
  assert.equal(await page.getByLabel('Default password').evaluate((el) => el.validity.valueMissing), true)
  assert.match(appPath(page), /\/settings$/)
})

test('groups for existing users need update existing profiles; the three existing-user settings reach the plan', async () => {
  await openSettings()
  await page.getByLabel('Add Groups').selectOption('Sales')
  await page.getByRole('button', { name: 'Add group' }).click()
  await page.getByText(/Existing users join these groups only with “Update existing profiles”/).waitFor()
  await page.getByLabel('Update existing profiles').check()
  assert.equal(await page.getByText(/Existing users join these groups only/).count(), 0)
  await page.getByLabel('Enrol existing users').check()
  await page.getByLabel('Update existing passwords').check()
  await page.getByLabel('Force password reset at next login').check()
  const plan = await planSettings()
  assert.equal(plan.settings.update_existing_profiles, true)
  assert.equal(plan.settings.enrol_existing_users, true)
  assert.equal(plan.settings.update_existing_passwords, true)
  assert.equal(plan.settings.force_password_reset, true)
  assert.deepEqual(plan.settings.groups, ['Sales'])
})

test('login method and suspend missing users with its threshold: visible, overridable, planned', async () => {
  await openSettings()
  const threshold = page.getByLabel('Most users to suspend (percent of those in scope)')
  assert.equal(await threshold.inputValue(), '10')
  assert.equal(await threshold.isDisabled(), true)
  await page.getByLabel('Suspend users missing from the file').check()
  assert.equal(await threshold.isEnabled(), true)
  await threshold.fill('100')
  const methods = await page.getByLabel('Login method for new users').locator('option').allTextContents()
  assert.ok(methods.includes('password'))
  const plan = await planSettings()
  assert.equal(plan.settings.suspend_missing_users, true)
  assert.equal(plan.settings.missing_users_threshold, 100)
})

test('Manage Enrolments: a modal dialog that traps focus, closes on Escape and gives focus back; Add>, <Del, Clear, search, Submit', async (t) => {
  await openSettings()
  const manage = page.getByRole('button', { name: 'Manage Enrolments' })
  await manage.focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog', { name: 'Manage Enrolments' })
  await dialog.waitFor()
  assert.equal(await dialog.evaluate((d) => d.matches(':modal')), true)
  assert.equal((await focused(page)).name, 'Course', 'focus moves into the dialog')
  await assertAccessible(t, page, assert)

  // Focus is trapped: Tab from the last control comes back to the first, Shift+Tab back out.
  await dialog.getByRole('button', { name: 'Cancel' }).focus()
  await page.keyboard.press('Tab')
  assert.equal(await page.evaluate(() => !!document.activeElement.closest('dialog')), true)
  assert.equal((await focused(page)).name, 'Course')
  await page.keyboard.press('Shift+Tab')
  assert.equal((await focused(page)).name, 'Cancel')

  // Search narrows the available items.
  const available = dialog.getByLabel('Available')
  const all = await available.locator('option').count()
  assert.ok(all >= 2, 'the demo has several courses')
  await dialog.getByLabel('Search by name').fill('privacy')
  assert.deepEqual(await available.locator('option').allTextContents(), ['Privacy basics'])
  await dialog.getByLabel('Search by name').fill('')

  // Add>, <Del, Clear.
  await available.selectOption([{ label: 'Privacy basics' }, { label: 'Secure coding' }])
  await dialog.getByRole('button', { name: 'Add>' }).click()
  const selected = dialog.getByLabel('Selected')
  assert.deepEqual(await selected.locator('option').allTextContents(), ['Course: Privacy basics', 'Course: Secure coding'])
  assert.equal(await available.locator('option', { hasText: 'Privacy basics' }).count(), 0, 'an added item leaves Available')
  await selected.selectOption({ label: 'Course: Secure coding' })
  await dialog.getByRole('button', { name: '<Del' }).click()
  assert.deepEqual(await selected.locator('option').allTextContents(), ['Course: Privacy basics'])
  await dialog.getByLabel('Collection').check()
  await available.selectOption({ label: 'Onboarding collection' })
  await dialog.getByRole('button', { name: 'Add>' }).click()
  await dialog.getByRole('button', { name: 'Clear' }).click()
  assert.equal(await selected.locator('option').count(), 0)

  // Escape discards the changes and gives focus back to the button that opened it.
  await dialog.getByLabel('Course').check()
  await available.selectOption({ label: 'Privacy basics' })
  await dialog.getByRole('button', { name: 'Add>' }).click()
  await page.keyboard.press('Escape')
  await dialog.waitFor({ state: 'hidden' })
  assert.equal((await focused(page)).name, 'Manage Enrolments')
  await page.getByRole('list', { name: 'Selected enrolments' }).getByText('None').waitFor()

  // Submit keeps them, and they reach the plan.
  await manage.click()
  await available.selectOption({ label: 'Privacy basics' })
  await dialog.getByRole('button', { name: 'Add>' }).click()
  await dialog.getByLabel('Campaign').check()
  await available.selectOption({ label: 'Wellbeing week' })
  await dialog.getByRole('button', { name: 'Add>' }).click()
  await dialog.getByRole('button', { name: 'Submit' }).click()
  await dialog.waitFor({ state: 'hidden' })
  assert.equal((await focused(page)).name, 'Manage Enrolments')
  const plan = await planSettings()
  assert.deepEqual(
    plan.settings.enrolments.map((e) => `${e.kind}:${e.id}`).sort(),
    ['campaign:wellbeing-week', 'course:privacy-basics'],
  )
})

test('Add Groups: a chip per group, x removes it, a chosen group leaves the drop-down', async () => {
  await openSettings()
  const select = page.getByLabel('Add Groups')
  for (const g of ['Sales', 'Support', 'Managers']) {
    await select.selectOption(g)
    await page.getByRole('button', { name: 'Add group' }).click()
  }
  const chips = page.getByRole('list', { name: 'Chosen groups' })
  assert.deepEqual((await chips.getByRole('listitem').allTextContents()).map((s) => s.replace(/x$/, '')), ['Sales', 'Support', 'Managers'])
  assert.equal(await select.locator('option', { hasText: 'Support' }).count(), 0)
  await page.getByRole('button', { name: 'Remove group Support' }).click()
  assert.deepEqual((await chips.getByRole('listitem').allTextContents()).map((s) => s.replace(/x$/, '')), ['Sales', 'Managers'])
  assert.equal((await focused(page)).name, 'Remove group Managers', 'focus stays in the chips')
  assert.equal(await select.locator('option', { hasText: 'Support' }).count(), 1, 'a removed group can be chosen again')
  await page.getByLabel('Update existing profiles').check()
  const plan = await planSettings()
  assert.deepEqual(plan.settings.groups, ['Sales', 'Managers'])
  assert.deepEqual(page.problems, [])
})
