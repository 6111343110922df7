// <bu-settings>: the seed's seven settings and their rules, the host-needs settings, Manage
// Enrolments and Add Groups; "Preview the changes" asks the server for a plan.
import { call, catalog, defaultPasswords, type PlanView, type Settings, type UploadReport } from './api.js'
import { h, replace } from './dom.js'
import { EnrolmentDialog } from './enrolment-dialog.js'
import { GroupPicker } from './group-picker.js'
import { navigate, seg } from './router.js'
import { Screen } from './screen.js'

function checkbox(id: string, label: string, checked: boolean, help?: string): [HTMLInputElement, HTMLElement] {
  const input = h('input', { type: 'checkbox', id, checked, 'aria-describedby': help ? `${id}-help` : null })
  return [input, h('div', { class: 'check' }, input, h('label', { for: id }, label), help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null)]
}

export class SettingsScreen extends Screen {
  heading(): string {
    return 'Settings'
  }

  protected async load(): Promise<void> {
    const id = this.params.id ?? ''
    const [report, cat] = await Promise.all([call<UploadReport>('GET', `/api/uploads/${seg(id)}`), catalog()])
    this.retitle(`Settings: ${report.filename}`)
    const d = cat.defaults
    const [enrolExisting, enrolExistingBox] = checkbox('set-enrol-existing', 'Enrol existing users', d.enrol_existing_users)
    const [updateProfiles, updateProfilesBox] = checkbox('set-update-profiles', 'Update existing profiles', d.update_existing_profiles)
    const [updatePasswords, updatePasswordsBox] = checkbox('set-update-passwords', 'Update existing passwords', d.update_existing_passwords)
    const [generate, generateBox] = checkbox(
      'set-generate',
      'Generate passwords and email them to users',
      d.generate_passwords,
    )
    const [invitations, invitationsBox] = checkbox(
      'set-invitations',
      'Send personal sign-in links instead of passwords',
      d.send_invitations ?? false,
      'Each user gets a single-use link by email and chooses their own password; no password is emailed.',
    )
    const password = h('input', { id: 'set-default-password', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'set-default-password-help' })
    const passwordBox = h(
      'div',
      { class: 'field' },
      h('label', { for: 'set-default-password' }, 'Default password'),
      password,
      h('p', { id: 'set-default-password-help', class: 'help' }, 'One password for every user whose password is set. It is never stored in the plan.'),
    )
    const [force, forceBox] = checkbox('set-force-reset', 'Force password reset at next login', d.force_password_reset)
    const [notify, notifyBox] = checkbox(
      'set-notify',
      'Send a notification email to new users',
      d.send_notification_email,
      'Generated passwords are always emailed; this choice is available when passwords are not generated.',
    )
    const groupsNote = h('p', { class: 'help', id: 'groups-note' })
    const applyRules = (): void => {
      const emailed = generate.checked || invitations.checked
      generate.disabled = invitations.checked
      passwordBox.hidden = emailed
      password.required = !emailed
      if (emailed) notify.checked = true
      notify.disabled = emailed
      groupsNote.textContent =
        groups.value.length > 0 && !updateProfiles.checked
          ? 'Existing users join these groups only with “Update existing profiles”; new users always do.'
          : ''
    }

    const loginMethod = h('select', { id: 'set-login-method' })
    for (const m of ['password', ...cat.login_methods.filter((m) => m !== 'password')]) loginMethod.append(h('option', { value: m }, m))
    loginMethod.value = d.default_login_method ?? 'password'
    const [suspend, suspendBox] = checkbox(
      'set-suspend-missing',
      'Suspend users missing from the file',
      d.suspend_missing_users,
      'The file lists everyone: users within your reach that it does not name are suspended (and can be reactivated by undo).',
    )
    const [reactivate, reactivateBox] = checkbox(
      'set-reactivate',
      'Reactivate suspended users named in the file',
      d.reactivate_suspended_users ?? false,
      'Only users an upload suspended (missing from a file, or undone); a user suspended by hand stays suspended. Off: every suspended user stays so.',
    )
    const threshold = h('input', { id: 'set-threshold', type: 'number', min: 0, max: 100, step: 1, value: d.missing_users_threshold, 'aria-describedby': 'set-threshold-help' })
    const thresholdBox = h(
      'div',
      { class: 'field' },
      h('label', { for: 'set-threshold' }, 'Most users to suspend (percent of those in scope)'),
      threshold,
      h('p', { id: 'set-threshold-help', class: 'help' }, 'More than this refuses the plan.'),
    )
    suspend.addEventListener('change', () => {
      threshold.disabled = !suspend.checked
    })
    threshold.disabled = !suspend.checked

    const dialog = new EnrolmentDialog()
    dialog.items = cat.content
    dialog.value = [...(d.enrolments ?? [])]
    const enrolSummary = h('ul', { class: 'summary-list', 'aria-label': 'Selected enrolments' })
    const showEnrolments = (): void => {
      const names = dialog.names()
      replace(enrolSummary, names.length ? names.map((n) => h('li', {}, n)) : h('li', {}, 'None'))
    }
    const manage = h('button', { type: 'button', 'aria-haspopup': 'dialog' }, 'Manage Enrolments')
    manage.addEventListener('click', () => dialog.open(manage))
    dialog.addEventListener('change', (e) => {
      if (e.target === dialog) showEnrolments()
    })

    const groups = new GroupPicker()
    groups.groups = cat.groups
    groups.value = [...(d.groups ?? [])]
    groups.addEventListener('change', applyRules)

    for (const c of [generate, invitations, updateProfiles]) c.addEventListener('change', applyRules)

    const submit = h('button', { type: 'submit', class: 'primary' }, 'Preview the changes')
    const form = h(
      'form',
      { 'aria-label': 'Settings' },
      h('fieldset', {}, h('legend', {}, 'Existing users'), enrolExistingBox, updateProfilesBox, updatePasswordsBox),
      h('fieldset', {}, h('legend', {}, 'Passwords'), invitationsBox, generateBox, passwordBox, forceBox, notifyBox),
      h('fieldset', {}, h('legend', {}, 'Sign-in and missing users'),
        h('div', { class: 'field' }, h('label', { for: 'set-login-method' }, 'Login method for new users'), loginMethod),
        suspendBox, thresholdBox, reactivateBox),
      h('section', { 'aria-labelledby': 'enrol-heading' }, h('h2', { id: 'enrol-heading' }, 'Enrolments'), enrolSummary, manage),
      h('section', { 'aria-labelledby': 'groups-heading' }, h('h2', { id: 'groups-heading' }, 'Groups'), groups, groupsNote),
      submit,
    )
    this.append(h('p', {}, `${report.valid_rows} of ${report.rows} rows are valid. Choose how they are applied.`), form, dialog)
    showEnrolments()
    applyRules()
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      const settings: Settings = {
        enrol_existing_users: enrolExisting.checked,
        update_existing_profiles: updateProfiles.checked,
        update_existing_passwords: updatePasswords.checked,
        generate_passwords: generate.checked && !invitations.checked,
        send_invitations: invitations.checked,
        default_password: generate.checked || invitations.checked ? null : password.value,
        force_password_reset: force.checked,
        send_notification_email: notify.checked,
        enrolments: dialog.value,
        groups: [...groups.value],
        default_login_method: loginMethod.value === 'password' ? null : loginMethod.value,
        suspend_missing_users: suspend.checked,
        missing_users_threshold: Number(threshold.value || d.missing_users_threshold),
        reactivate_suspended_users: reactivate.checked,
      }
      void this.plan(id, settings, submit)
    })
  }

  private async plan(id: string, settings: Settings, button: HTMLButtonElement): Promise<void> {
    this.clearError()
    button.disabled = true
    try {
      const plan = await call<PlanView>('POST', `/api/uploads/${seg(id)}/plans`, { settings, exclude_lines: [] })
      if (settings.default_password) defaultPasswords.set(id, settings.default_password)
      else defaultPasswords.delete(id)
      navigate(`/plans/${seg(plan.id)}`)
    } catch (e) {
      this.fail(e)
      this.alertBox.scrollIntoView?.()
    } finally {
      button.disabled = false
    }
  }
}
customElements.define('bu-settings', SettingsScreen)
