// <bu-preview>: the plan before it runs — counts, rows paged (old -> new per field,
// memberships and enrolments), per-row exclusion (the server rebuilds the plan without
// those lines), the note that undo is possible, and Approve and run.
import { call, catalog, defaultPasswords, type ContentItem, query, type Page, type PlanRow, type PlanView, type Run, type Settings } from './api.js'
import { counts, h, Latest, replace, when } from './dom.js'
import { Pager } from './pager.js'
import { navigate, seg } from './router.js'
import { Screen } from './screen.js'

const PER_PAGE = 50

type Op = { op: string } & Record<string, unknown>

function text(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : ''
}

/** An operation of the plan in words (core's Operation, tagged by `op`), never its secrets. */
export function describeOp(op: Op, content: ContentItem[] = []): string {
  const group = (op.group ?? {}) as Record<string, unknown>
  const item = (op.content ?? {}) as Record<string, unknown>
  const itemName = (): string => {
    const found = content.find((c) => c.kind === item.kind && c.id === text(item.id))
    return `${text(item.kind)} ${found ? found.name : text(item.id)}`.trim()
  }
  switch (op.op) {
    case 'create_user':
      return op.login_method ? `Create the user (signs in by ${text(op.login_method)})` : 'Create the user'
    case 'set_login_method':
      return `Sign in by ${text(op.method)}`
    case 'reactivate_user':
      return 'Reactivate the user'
    case 'update_profile':
      return 'Update the profile'
    case 'set_password':
      return 'Set a new password'
    case 'add_to_group':
      return `Add to group ${text(group.name)}`
    case 'remove_from_group':
      return `Remove from group ${text(group.name)}`
    case 'enrol':
      return `Enrol in ${itemName()}`
    case 'withdraw':
      return `Withdraw from ${itemName()}`
    case 'send_email':
      return `Email: ${text(op.kind).replace(/_/g, ' ')}`
    case 'suspend_user':
      return 'Suspend the user'
    case 'delete_user':
      return 'Delete the user'
    default:
      return String(op.op).replace(/_/g, ' ')
  }
}

export class PreviewScreen extends Screen {
  private plan!: PlanView
  private content: ContentItem[] = []
  private body = h('tbody')
  private pager = new Pager()
  private latest = new Latest()
  private action = h('select', { id: 'preview-action' })
  private excluded = new Set<number>()
  private rebuild = h('button', { type: 'button' }, 'Rebuild the plan without the unticked lines')
  private status = h('p', { class: 'status', role: 'status' })

  heading(): string {
    return 'Preview'
  }

  protected async load(): Promise<void> {
    const [plan, cat] = await Promise.all([call<PlanView>('GET', `/api/plans/${seg(this.params.id ?? '')}`), catalog()])
    this.content = cat.content
    this.plan = plan
    this.retitle(plan.undo_of_run ? 'Preview of the undo' : 'Preview')
    this.pager.label = 'rows'
    this.pager.addEventListener('page', (e) => void this.loadRows((e as CustomEvent<number>).detail))
    for (const [v, t] of [['', 'All rows'], ['create', 'Created'], ['update', 'Updated'], ['unchanged', 'Unchanged'], ['rejected', 'Rejected']]) {
      this.action.append(h('option', { value: v }, t))
    }
    this.action.addEventListener('change', () => void this.loadRows(1))
    this.rebuild.addEventListener('click', () => void this.rebuildPlan([...plan.excluded_lines, ...this.excluded]))
    this.rebuild.disabled = true

    const approve = h('button', { type: 'button', class: 'primary' }, 'Approve and run')
    approve.addEventListener('click', () => void this.approve(approve))
    const excludedNote =
      plan.excluded_lines.length > 0
        ? (() => {
            const again = h('button', { type: 'button' }, 'Include them again')
            again.addEventListener('click', () => void this.rebuildPlan([]))
            return h('p', {}, `Excluded lines: ${plan.excluded_lines.join(', ')}. `, again)
          })()
        : null
    this.append(
      h('section', { 'aria-labelledby': 'preview-counts' }, h('h2', { id: 'preview-counts' }, 'What will change'), counts(plan.summary, 'Plan counts'),
        h('p', { class: 'note' }, plan.undo_of_run
          ? `This plan reverses run ${plan.undo_of_run}.`
          : 'Nothing is written until you approve. After the run, its results page offers Undo, which reverses what this run did.'),
        h('p', { class: 'meta' }, `Plan made ${when(plan.created_at)}.`)),
      h(
        'section',
        { 'aria-labelledby': 'preview-rows' },
        h('h2', { id: 'preview-rows' }, 'Rows'),
        h('div', { class: 'field inline' }, h('label', { for: 'preview-action' }, 'Show'), this.action),
        excludedNote,
        h(
          'table',
          {},
          h('caption', {}, plan.upload_id ? 'Each row of the plan; untick a row to leave its line out' : 'Each row of the plan'),
          h('thead', {}, h('tr', {}, ['Include', 'Line', 'Email', 'Name', 'Action', 'Changes (old → new)', 'Memberships and enrolments', 'Issues'].map((t) => h('th', { scope: 'col' }, t)))),
          this.body,
        ),
        this.pager,
        plan.upload_id ? this.rebuild : null,
      ),
      h(
        'section',
        { 'aria-labelledby': 'preview-approve' },
        h('h2', { id: 'preview-approve' }, 'Approve'),
        plan.approved_run
          ? h('p', {}, 'This plan has been approved. ', h('a', { href: `/runs/${seg(plan.approved_run)}` }, 'See its run'))
          : approve,
      ),
      this.status,
    )
    await this.loadRows(1)
  }

  private async loadRows(page: number): Promise<void> {
    const current = this.latest.take()
    const res = await call<Page<PlanRow>>('GET', `/api/plans/${seg(this.plan.id)}/rows${query({ action: this.action.value, page, per_page: PER_PAGE })}`)
    if (!current()) return
    this.pager.update(res.page, res.per_page, res.total)
    replace(
      this.body,
      res.items.length === 0 ? h('tr', {}, h('td', { colspan: 8 }, 'No rows.')) : res.items.map((r) => this.row(r)),
    )
  }

  private row(r: PlanRow): HTMLTableRowElement {
    let include: Node | null = null
    if (this.plan.upload_id) {
      const box = h('input', { type: 'checkbox', checked: !this.excluded.has(r.line), 'aria-label': `Include line ${r.line}` })
      box.addEventListener('change', () => {
        if (box.checked) this.excluded.delete(r.line)
        else this.excluded.add(r.line)
        this.rebuild.disabled = this.excluded.size === 0
        this.status.textContent = `${this.excluded.size} line(s) to leave out.`
      })
      include = box
    }
    return h(
      'tr',
      { class: r.action },
      h('td', {}, include),
      h('td', {}, String(r.line)),
      h('td', { class: 'value' }, r.email),
      h('td', { class: 'value' }, [r.first_name, r.last_name].filter(Boolean).join(' ')),
      h('td', {}, r.action),
      h('td', {}, r.changes.length ? h('ul', {}, r.changes.map((c) => h('li', {}, `${c.field}: `, h('del', {}, c.before ?? '(none)'), ' → ', h('ins', {}, c.after ?? '(none)')))) : ''),
      h('td', {}, r.operations.length ? h('ul', {}, r.operations.map((o) => h('li', {}, describeOp(o, this.content)))) : ''),
      h('td', {}, r.issues.length ? h('ul', {}, r.issues.map((i) => h('li', {}, i.message, ' ', h('code', {}, i.code)))) : ''),
    )
  }

  private async rebuildPlan(exclude: number[]): Promise<void> {
    this.clearError()
    const uploadId = this.plan.upload_id
    if (!uploadId) return
    const settings: Settings = { ...this.plan.settings }
    delete settings.default_password
    if (!settings.generate_passwords) settings.default_password = defaultPasswords.get(uploadId) ?? null
    try {
      const plan = await call<PlanView>('POST', `/api/uploads/${seg(uploadId)}/plans`, {
        settings,
        exclude_lines: [...new Set(exclude)].sort((a, b) => a - b),
      })
      navigate(`/plans/${seg(plan.id)}`, true)
    } catch (e) {
      this.fail(e)
    }
  }

  private async approve(button: HTMLButtonElement): Promise<void> {
    this.clearError()
    button.disabled = true
    try {
      const run = await call<Run>('POST', `/api/plans/${seg(this.plan.id)}/approve`)
      navigate(`/runs/${seg(run.id)}`)
    } catch (e) {
      button.disabled = false
      this.fail(e)
    }
  }
}
customElements.define('bu-preview', PreviewScreen)
