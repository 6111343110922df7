// <bu-report>: the validation report of one upload — the file report, column matching
// (assign a column by hand, re-validate), the issues paged on the server (errors only on
// demand), a cell fixed in place, the corrected file's download, and on to the settings.
import { call, catalog, query, type Issue, type Page, type UploadReport, type UploadRow } from './api.js'
import { bytes, h, replace } from './dom.js'
import { navigate, seg } from './router.js'
import { Pager } from './pager.js'
import { Screen } from './screen.js'

/** The engine's built-in columns (core's Column names); the host's declared fields follow. */
export const BUILTIN_FIELDS = [
  'firstname',
  'lastname',
  'emailaddress',
  'phonenumber',
  'uniqueid',
  'country',
  'organisation',
  'languagecode',
  'addgroup',
  'removegroup',
  'auth',
]

const PER_PAGE = 50

/** The built-in columns' names for people; a declared field shows its own name. */
const FIELD_LABELS: Record<string, string> = {
  firstname: 'First name',
  lastname: 'Last name',
  emailaddress: 'Email address',
  phonenumber: 'Phone number',
  uniqueid: 'Unique ID',
  country: 'Country',
  organisation: 'Organisation',
  languagecode: 'Language code',
  addgroup: 'Add group',
  removegroup: 'Remove group',
  auth: 'Login method (auth)',
}

function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field
}

export class ReportScreen extends Screen {
  private report!: UploadReport
  private fields: string[] = []
  private summary = h('section', { 'aria-labelledby': 'report-file' })
  private columns = h('section', { 'aria-labelledby': 'report-columns' })
  private issues = h('section', { 'aria-labelledby': 'report-issues' })
  private actions = h('section', { 'aria-labelledby': 'report-next' })
  private issueBody = h('tbody')
  private pager = new Pager()
  private errorsOnly = h('input', { type: 'checkbox', id: 'issues-errors-only' })
  private fixer = h('div', { class: 'fixer' })
  private status = h('p', { class: 'status', role: 'status' })
  private page = 1

  heading(): string {
    return 'Validation report'
  }

  private get base(): string {
    return `/api/uploads/${seg(this.params.id ?? '')}`
  }

  protected async load(): Promise<void> {
    this.pager.label = 'issues'
    this.pager.addEventListener('page', (e) => void this.loadIssues((e as CustomEvent<number>).detail))
    this.errorsOnly.addEventListener('change', () => void this.loadIssues(1))
    this.append(this.summary, this.columns, this.issues, this.actions, this.status)
    const [report, cat] = await Promise.all([call<UploadReport>('GET', this.base), catalog()])
    const declared = cat.fields.map((f) => (typeof f === 'string' ? f : f.name))
    this.fields = [...new Set([...BUILTIN_FIELDS, ...declared])]
    this.show(report)
    replace(
      this.issues,
      h('h2', { id: 'report-issues' }, 'Issues'),
      h('div', { class: 'check' }, this.errorsOnly, h('label', { for: 'issues-errors-only' }, 'Errors only')),
      h(
        'table',
        {},
        h('caption', {}, 'Issues found in the file, one page at a time'),
        h(
          'thead',
          {},
          h('tr', {}, ['Line', 'Column', 'Value', 'Message', 'Code', 'Fix'].map((t) => h('th', { scope: 'col' }, t))),
        ),
        this.issueBody,
      ),
      this.pager,
      this.fixer,
    )
    await this.loadIssues(1)
  }

  private show(report: UploadReport): void {
    this.report = report
    this.retitle(`Validation report: ${report.filename}`)
    replace(
      this.summary,
      h('h2', { id: 'report-file' }, 'File report'),
      h(
        'dl',
        { class: 'counts' },
        (
          [
            ['File', report.filename],
            ['Size', bytes(report.size)],
            ['Encoding', report.encoding ?? '—'],
            ['Delimiter', report.delimiter === null ? '—' : report.delimiter === '\t' ? 'tab' : report.delimiter],
            ['Rows', report.rows],
            ['Valid rows', report.valid_rows],
            ['Rows with errors', report.error_rows],
            ['Errors', report.errors],
            ['Warnings', report.warnings],
          ] as [string, string | number][]
        ).map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, String(v)))),
      ),
      report.file_issues.length
        ? h(
            'div',
            {},
            h('h3', {}, 'About the whole file'),
            h('ul', {}, report.file_issues.map((i) => h('li', {}, `${i.severity}: `, i.message, ' ', h('code', {}, i.code)))),
          )
        : null,
    )
    this.showColumns()
    const next = h('button', { type: 'button', class: 'primary' }, 'Continue to settings')
    next.disabled = !report.can_plan
    next.addEventListener('click', () => navigate(`/uploads/${seg(report.id)}/settings`))
    replace(
      this.actions,
      h('h2', { id: 'report-next' }, 'Next'),
      report.can_plan ? null : h('p', {}, 'No row can be uploaded yet: fix the errors above first.'),
      h('p', {}, h('a', { href: `${this.base}/file`, download: report.filename.replace(/\.[^.]*$/, '') + '-corrected.csv' }, 'Download the corrected file')),
      next,
    )
  }

  private showColumns(): void {
    const report = this.report
    const selects: HTMLSelectElement[] = []
    const known = new Set(this.fields)
    for (const c of report.columns) if (c.field) known.add(c.field)
    const rows = report.columns.map((c) => {
      const id = `column-field-${c.index}`
      const select = h('select', { id, 'data-index': c.index, 'aria-label': `Field for column ${c.header}` })
      select.append(h('option', { value: '' }, '(ignored)'))
      for (const f of known) select.append(h('option', { value: f }, fieldLabel(f)))
      select.value = c.field ?? ''
      select.dataset.initial = select.value
      selects.push(select)
      let suggestion: Node | null = null
      if (c.suggestion && !c.field) {
        const use = h('button', { type: 'button', 'aria-label': `Use ${c.suggestion} for column ${c.header}` }, `Use ${c.suggestion}`)
        use.addEventListener('click', () => {
          if (![...select.options].some((o) => o.value === c.suggestion)) select.append(h('option', { value: c.suggestion ?? '' }, fieldLabel(c.suggestion ?? '')))
          select.value = c.suggestion ?? ''
          select.focus()
        })
        suggestion = h('span', {}, `Did you mean ${c.suggestion}? `, use)
      }
      return h(
        'tr',
        {},
        h('th', { scope: 'row' }, c.header),
        h('td', {}, select),
        h('td', {}, c.assigned ? [c.field ? 'Assigned by hand ' : 'Ignored by hand ', this.resetButton(c.index, c.header)] : c.field ? 'Matched' : 'Unknown column, ignored'),
        h('td', {}, suggestion),
      )
    })
    const apply = h('button', { type: 'button' }, 'Apply columns and re-validate')
    apply.addEventListener('click', () => void this.assign(selects))
    replace(
      this.columns,
      h('h2', { id: 'report-columns' }, 'Column matching'),
      h(
        'table',
        {},
        h('caption', {}, 'Which column of the file became which field'),
        h('thead', {}, h('tr', {}, ['Column in the file', 'Field', 'Match', 'Suggestion'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows),
      ),
      apply,
    )
  }

  private resetButton(index: number, header: string): HTMLButtonElement {
    const b = h('button', { type: 'button', 'aria-label': `Match column ${header} automatically` }, 'Match automatically')
    b.addEventListener('click', () => void this.columnsChange({ reset: [index] }))
    return b
  }

  private async columnsChange(body: { assign?: Record<string, string | null>; reset?: number[] }): Promise<void> {
    this.clearError()
    try {
      const report = await call<UploadReport>('PUT', `${this.base}/columns`, body)
      this.show(report)
      await this.loadIssues(1)
      this.status.textContent = `Columns applied; the file was re-validated: ${report.errors} errors, ${report.warnings} warnings.`
    } catch (e) {
      this.fail(e)
    }
  }

  private async assign(selects: HTMLSelectElement[]): Promise<void> {
    this.clearError()
    const assign: Record<string, string | null> = {}
    for (const s of selects) {
      if (s.value !== s.dataset.initial) assign[s.dataset.index ?? ''] = s.value || null
    }
    if (Object.keys(assign).length === 0) {
      this.status.textContent = 'No column changed.'
      return
    }
    await this.columnsChange({ assign })
  }

  private async loadIssues(page: number): Promise<void> {
    const severity = this.errorsOnly.checked ? 'error' : null
    const res = await call<Page<Issue>>('GET', `${this.base}/issues${query({ severity, page, per_page: PER_PAGE })}`)
    this.page = res.page
    this.pager.update(res.page, res.per_page, res.total)
    replace(
      this.issueBody,
      res.items.length === 0 ? h('tr', {}, h('td', { colspan: 6 }, 'No issues.')) : res.items.map((i) => this.issueRow(i)),
    )
  }

  private issueRow(i: Issue): HTMLTableRowElement {
    const column = this.report.columns.find((c) => c.header === i.column)
    let fix: Node | null = null
    if (i.line !== null && column) {
      const b = h('button', { type: 'button', 'aria-label': `Fix line ${i.line}, column ${column.header}` }, 'Fix')
      b.addEventListener('click', () => this.openFixer(i, column.index, column.header, b))
      fix = b
    }
    return h(
      'tr',
      { class: i.severity },
      h('td', {}, i.line === null ? '' : String(i.line)),
      h('td', {}, i.column ?? ''),
      h('td', { class: 'value' }, i.value ?? ''),
      h('td', {}, h('span', { class: `sev ${i.severity}` }, i.severity === 'error' ? 'Error: ' : 'Warning: '), i.message),
      h('td', {}, h('code', {}, i.code)),
      h('td', {}, fix),
    )
  }

  private openFixer(i: Issue, index: number, header: string, opener: HTMLButtonElement): void {
    const input = h('input', { id: 'fix-value', type: 'text', autocomplete: 'off' })
    input.value = i.value ?? ''
    const save = h('button', { type: 'submit', class: 'primary' }, 'Save and re-validate')
    const cancel = h('button', { type: 'button' }, 'Cancel')
    const form = h(
      'form',
      { 'aria-labelledby': 'fix-heading' },
      h('h3', { id: 'fix-heading' }, `Fix a cell: line ${i.line}, column ${header}`),
      h('div', { class: 'field' }, h('label', { for: 'fix-value' }, `New value for ${header} on line ${i.line}`), input),
      save,
      ' ',
      cancel,
    )
    cancel.addEventListener('click', () => {
      this.fixer.replaceChildren()
      opener.focus()
    })
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      void this.saveFix(i.line ?? 0, index, input.value)
    })
    replace(this.fixer, form)
    input.focus()
  }

  private async saveFix(line: number, column: number, value: string): Promise<void> {
    this.clearError()
    try {
      const res = await call<{ report: UploadReport; row: UploadRow }>('PATCH', `${this.base}/cells`, { line, column, value })
      this.fixer.replaceChildren()
      this.show(res.report)
      await this.loadIssues(this.page)
      this.status.textContent = res.row.valid
        ? `Line ${line} fixed and re-validated: the row is valid.`
        : `Line ${line} re-validated: ${res.row.issues.map((x) => x.message).join(' ')}`
      this.querySelector<HTMLElement>('#report-issues')?.setAttribute('tabindex', '-1')
      this.querySelector<HTMLElement>('#report-issues')?.focus()
    } catch (e) {
      this.fail(e)
    }
  }
}
customElements.define('bu-report', ReportScreen)
