// <bu-results>: a run's results — counts, rows paged and filterable (failed only), the
// results CSV, and Undo (its plan previewed and approved like any other).
import { call, query, type Page, type ResultRow, type Run } from './api.js'
import { counts, h, Latest, replace, when } from './dom.js'
import { Pager } from './pager.js'
import { navigate, seg } from './router.js'
import { Screen } from './screen.js'
import { stateText } from './run-screen.js'

const PER_PAGE = 50

export class ResultsScreen extends Screen {
  private run!: Run
  private body = h('tbody')
  private pager = new Pager()
  private latest = new Latest()
  private failedOnly = h('input', { type: 'checkbox', id: 'results-failed-only' })

  heading(): string {
    return 'Results'
  }

  protected async load(): Promise<void> {
    const id = this.params.id ?? ''
    const run = await call<Run>('GET', `/api/runs/${seg(id)}`)
    this.run = run
    this.retitle(run.kind === 'undo' ? 'Results of the undo' : 'Results')
    this.pager.label = 'rows'
    this.pager.addEventListener('page', (e) => void this.loadRows((e as CustomEvent<number>).detail))
    this.failedOnly.addEventListener('change', () => void this.loadRows(1))
    this.append(
      h('section', { 'aria-labelledby': 'results-counts' },
        h('h2', { id: 'results-counts' }, 'Counts'),
        h('p', {}, `${stateText(run)}. Started ${when(run.started_at)}${run.uploader ? ` by ${run.uploader}` : ''}.`),
        counts(run.counts, 'Result counts'),
        h('p', {}, h('a', { href: `/api/runs/${seg(id)}/results.csv`, download: `results-${id}.csv` }, 'Download the results (CSV)'))),
      h(
        'section',
        { 'aria-labelledby': 'results-rows' },
        h('h2', { id: 'results-rows' }, 'Rows'),
        h('div', { class: 'check' }, this.failedOnly, h('label', { for: 'results-failed-only' }, 'Failed only')),
        h(
          'table',
          {},
          h('caption', {}, 'What happened to each row'),
          h('thead', {}, h('tr', {}, ['Line', 'Email', 'Status', 'User', 'Done', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
          this.body,
        ),
        this.pager,
      ),
      this.undoSection(run),
    )
    await this.loadRows(1)
  }

  private undoSection(run: Run): HTMLElement {
    const section = h('section', { 'aria-labelledby': 'results-undo' }, h('h2', { id: 'results-undo' }, 'Undo'))
    if (run.undone_by) {
      section.append(h('p', {}, 'This run has been undone. ', h('a', { href: `/runs/${seg(run.undone_by)}/results` }, 'See the undo')))
    } else if (run.kind === 'undo') {
      section.append(h('p', {}, 'This run undid ', run.undo_of ? h('a', { href: `/runs/${seg(run.undo_of)}/results` }, 'an earlier run') : 'an earlier run', '.'))
    } else if (run.state === 'finished' || run.state === 'cancelled') {
      const del = h('input', { type: 'checkbox', id: 'undo-delete-created' })
      const button = h('button', { type: 'button' }, 'Undo this run')
      button.addEventListener('click', () => void this.undo(del.checked, button))
      section.append(
        h('p', {}, 'Undo reverses what this run did: you preview its plan and approve it like any other.'),
        h('div', { class: 'check' }, del, h('label', { for: 'undo-delete-created' }, 'Delete the users this run created (otherwise they are suspended)')),
        button,
      )
    } else {
      section.append(h('p', {}, 'Undo is possible once the run has ended.'))
    }
    return section
  }

  private async loadRows(page: number): Promise<void> {
    const status = this.failedOnly.checked ? 'failed' : null
    const current = this.latest.take()
    const res = await call<Page<ResultRow>>('GET', `/api/runs/${seg(this.run.id)}/results${query({ status, page, per_page: PER_PAGE })}`)
    if (!current()) return
    this.pager.update(res.page, res.per_page, res.total)
    replace(
      this.body,
      res.items.length === 0
        ? h('tr', {}, h('td', { colspan: 6 }, 'No rows.'))
        : res.items.map((r) =>
            h(
              'tr',
              { class: r.status },
              h('td', {}, String(r.line)),
              h('td', { class: 'value' }, r.email),
              h('td', {}, r.status),
              h('td', {}, r.user_id ?? ''),
              h('td', {}, r.done.length ? h('ul', {}, r.done.map((d) => h('li', {}, d))) : ''),
              h('td', {}, r.error ? [r.error.message, ' ', h('code', {}, r.error.code)] : ''),
            ),
          ),
    )
  }

  private async undo(deleteCreated: boolean, button: HTMLButtonElement): Promise<void> {
    this.clearError()
    button.disabled = true
    try {
      const plan = await call<{ id: string }>('POST', `/api/runs/${seg(this.run.id)}/undo`, { delete_created_users: deleteCreated })
      navigate(`/plans/${seg(plan.id)}`)
    } catch (e) {
      button.disabled = false
      this.fail(e)
    }
  }
}
customElements.define('bu-results', ResultsScreen)
