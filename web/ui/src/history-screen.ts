// <bu-history>: every run, newest first — who ran it, when, counts, undone marks.
import { call, query, type Page, type Run } from './api.js'
import { h, Latest, replace, when } from './dom.js'
import { Pager } from './pager.js'
import { seg } from './router.js'
import { Screen } from './screen.js'
import { stateText } from './run-screen.js'

export class HistoryScreen extends Screen {
  private body = h('tbody')
  private pager = new Pager()
  private latest = new Latest()

  heading(): string {
    return 'History'
  }

  protected async load(): Promise<void> {
    this.pager.label = 'runs'
    this.pager.addEventListener('page', (e) => void this.loadRuns((e as CustomEvent<number>).detail))
    this.append(
      h(
        'table',
        {},
        h('caption', {}, 'Every run, newest first'),
        h('thead', {}, h('tr', {}, ['Run', 'Kind', 'By', 'Started', 'Ended', 'State', 'Counts', 'Undo'].map((t) => h('th', { scope: 'col' }, t)))),
        this.body,
      ),
      this.pager,
    )
    await this.loadRuns(1)
  }

  private async loadRuns(page: number): Promise<void> {
    const current = this.latest.take()
    const res = await call<Page<Run>>('GET', `/api/runs${query({ page, per_page: 50 })}`)
    if (!current()) return
    this.pager.update(res.page, res.per_page, res.total)
    replace(
      this.body,
      res.items.length === 0
        ? h('tr', {}, h('td', { colspan: 8 }, 'No runs yet.'))
        : res.items.map((r) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `/runs/${seg(r.id)}/results`, 'aria-label': `Results of ${r.id}` }, r.id)),
              h('td', {}, r.kind),
              h('td', { class: 'value' }, r.uploader ?? '(command line)'),
              h('td', {}, when(r.started_at)),
              h('td', {}, when(r.finished_at)),
              h('td', {}, stateText(r)),
              h('td', {}, Object.entries(r.counts).filter(([, v]) => typeof v === 'number' && v > 0).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ')),
              h(
                'td',
                {},
                r.undone_by
                  ? h('a', { href: `/runs/${seg(r.undone_by)}/results` }, `Undone by ${r.undone_by}`)
                  : r.undo_of
                    ? ['Undo of ', h('a', { href: `/runs/${seg(r.undo_of)}/results` }, r.undo_of)]
                    : '',
              ),
            ),
          ),
    )
  }
}
customElements.define('bu-history', HistoryScreen)
