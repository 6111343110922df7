// <bu-report>: the validation report of one upload — the file report, column matching
// (assign a column by hand, re-validate), the issues paged on the server (errors only on
// demand), a cell fixed in place, the corrected file's download, and on to the settings.
import { call, catalog, query, type Issue, type Page, type UploadReport, type UploadRow } from './api.js'
import { bytes, h, Latest, replace } from './dom.js'
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

/** Rows shown as the engine read them, to check the names (encoding, sheet). */
const SAMPLE_ROWS = 5

/** Encodings an administrator may name for a CSV file (WHATWG labels the engine knows). */
const ENCODINGS: [string, string][] = [
  ['utf-8', 'UTF-8'],
  ['windows-1252', 'Western European (Windows-1252)'],
  ['windows-1250', 'Central European (Windows-1250)'],
  ['windows-1251', 'Cyrillic (Windows-1251)'],
  ['windows-1253', 'Greek (Windows-1253)'],
  ['windows-1254', 'Turkish (Windows-1254)'],
  ['windows-1257', 'Baltic (Windows-1257)'],
  ['windows-1258', 'Vietnamese (Windows-1258)'],
  ['iso-8859-2', 'Central European (ISO-8859-2)'],
  ['koi8-r', 'Cyrillic (KOI8-R)'],
  ['shift_jis', 'Japanese (Shift_JIS)'],
  ['euc-jp', 'Japanese (EUC-JP)'],
  ['gbk', 'Chinese, simplified (GBK)'],
  ['big5', 'Chinese, traditional (Big5)'],
  ['euc-kr', 'Korean (EUC-KR)'],
]

const FORMATS: Record<string, string> = { csv: 'CSV text', xlsx: 'Excel workbook (.xlsx)', xls: 'Excel 97–2003 workbook (.xls)', ods: 'OpenDocument spreadsheet (.ods)' }

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
  private reading = h('section', { 'aria-labelledby': 'report-reading' })
  private sample = h('section', { 'aria-labelledby': 'report-sample' })
  private columns = h('section', { 'aria-labelledby': 'report-columns' })
  private issues = h('section', { 'aria-labelledby': 'report-issues' })
  private actions = h('section', { 'aria-labelledby': 'report-next' })
  private issueBody = h('tbody')
  private pager = new Pager()
  private latest = new Latest()
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
    this.append(this.summary, this.reading, this.sample, this.columns, this.issues, this.actions, this.status)
    const [report, cat] = await Promise.all([call<UploadReport>('GET', this.base), catalog()])
    const declared = cat.fields.map((f) => (typeof f === 'string' ? f : f.name))
    this.fields = [...new Set([...BUILTIN_FIELDS, ...declared])]
    const sample = this.show(report)
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
    await Promise.all([this.loadIssues(1), sample])
  }

  /** Shows a report; settles once its sample rows are shown too (they come from the server). */
  private show(report: UploadReport): Promise<void> {
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
            ['Format', report.format ? (FORMATS[report.format] ?? report.format) : '—'],
            ...(report.sheet !== null ? [['Sheet', report.sheet] as [string, string]] : []),
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
    this.showReading()
    const sample = this.loadSample()
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
    return sample
  }

  /** The sheet of a workbook, the encoding of a CSV file the engine guessed: chosen here,
   * re-validated and stored by the server. */
  private showReading(): void {
    const report = this.report
    const parts: Node[] = []
    if (report.sheets.length > 1) {
      const select = h('select', { id: 'reading-sheet' })
      for (const name of report.sheets) select.append(h('option', { value: name }, name))
      select.value = report.sheet ?? report.sheets[0] ?? ''
      const apply = h('button', { type: 'button' }, 'Read this sheet')
      apply.addEventListener('click', () => void this.read({ sheet: select.value === report.sheets[0] ? null : select.value }))
      parts.push(
        h('div', { class: 'field' }, h('label', { for: 'reading-sheet' }, 'Sheet of the workbook'), select, ' ', apply),
      )
    }
    const guessed = report.file_issues.some((i) => i.code === 'encoding_guessed' || i.code === 'encoding_unsure')
    if (report.format === 'csv' && (guessed || report.reading.encoding !== null)) {
      const select = h('select', { id: 'reading-encoding', 'aria-describedby': 'reading-encoding-help' })
      select.append(h('option', { value: '' }, 'Detect automatically'))
      const known = new Set(ENCODINGS.map(([v]) => v))
      for (const [value, label] of ENCODINGS) select.append(h('option', { value }, label))
      const named = report.reading.encoding?.toLowerCase() ?? ''
      if (named && !known.has(named)) select.append(h('option', { value: named }, named))
      select.value = named
      const apply = h('button', { type: 'button' }, 'Read with this encoding')
      apply.addEventListener('click', () => void this.read({ encoding: select.value || null }))
      parts.push(
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'reading-encoding' }, 'Encoding of the file'),
          select,
          ' ',
          apply,
          h(
            'p',
            { id: 'reading-encoding-help', class: 'help' },
            report.reading.encoding
              ? `Read as ${report.encoding ?? report.reading.encoding}, as you named it.`
              : `The file is not UTF-8: it was read as ${report.encoding ?? '?'}, the code page its letters fit best. If the names below look wrong, name the encoding it was saved in.`,
          ),
        ),
      )
    }
    if (parts.length === 0) {
      this.reading.replaceChildren()
      this.reading.hidden = true
      return
    }
    this.reading.hidden = false
    replace(this.reading, h('h2', { id: 'report-reading' }, 'Reading the file'), parts)
  }

  private async read(body: { sheet?: string | null; encoding?: string | null }): Promise<void> {
    this.clearError()
    try {
      const report = await call<UploadReport>('PUT', `${this.base}/reading`, body)
      await Promise.all([this.show(report), this.loadIssues(1)])
      const how = report.sheet !== null ? `sheet ${report.sheet}` : `encoding ${report.encoding ?? '?'}`
      this.status.textContent = `The file was read again (${how}) and re-validated: ${report.errors} errors, ${report.warnings} warnings.`
    } catch (e) {
      this.fail(e)
    }
  }

  /** The first rows as the engine read them. */
  private async loadSample(): Promise<void> {
    const report = this.report
    if (!report.can_plan || report.rows === 0) {
      this.sample.replaceChildren()
      this.sample.hidden = true
      return
    }
    const version = report.version
    const res = await call<Page<UploadRow>>('GET', `${this.base}/rows${query({ page: 1, per_page: SAMPLE_ROWS })}`)
    if (this.report.version !== version || this.report !== report) return
    this.sample.hidden = false
    const shown = report.columns.filter((c) => c.field !== null)
    replace(
      this.sample,
      h('h2', { id: 'report-sample' }, 'First rows as read'),
      h(
        'table',
        {},
        h('caption', {}, `The first ${res.items.length} of ${res.total} rows, as the engine read them`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Line'), shown.map((c) => h('th', { scope: 'col' }, c.header)))),
        h(
          'tbody',
          {},
          res.items.map((r) => h('tr', {}, h('th', { scope: 'row' }, String(r.line)), shown.map((c) => h('td', { class: 'value' }, r.cells[c.index] ?? '')))),
        ),
      ),
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
      await Promise.all([this.show(report), this.loadIssues(1)])
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
    const current = this.latest.take()
    const res = await call<Page<Issue>>('GET', `${this.base}/issues${query({ severity, page, per_page: PER_PAGE })}`)
    if (!current()) return
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
      await Promise.all([this.show(res.report), this.loadIssues(this.page)])
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
