// <bu-run>: a run's live progress, pushed by the server (server-sent events): a progress bar
// and counts, announced in a live region; Cancel. Closing the tab does not stop the run.
import { call, type Run } from './api.js'
import { counts, h, replace, when } from './dom.js'
import { url } from './base.js'
import { seg } from './router.js'
import { Screen } from './screen.js'

const ENDED = new Set(['finished', 'cancelled'])

export function stateText(run: Run): string {
  switch (run.state) {
    case 'queued':
      return 'Waiting to start'
    case 'running':
      return 'Running'
    case 'finished':
      return 'Finished'
    case 'cancelled':
      return 'Cancelled'
    case 'interrupted':
      return 'Interrupted (it resumes when the server restarts)'
    default:
      return String(run.state)
  }
}

export class RunScreen extends Screen {
  private source: EventSource | null = null
  private bar = h('progress', { id: 'run-progress', max: 1, value: 0 })
  private barText = h('p', { class: 'progress-text' })
  private live = h('div', { class: 'live sr-only', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' })
  private countsBox = h('div')
  private meta = h('p', { class: 'meta' })
  private cancel = h('button', { type: 'button' }, 'Cancel the run')
  private done = h('div')
  private lastTenth = -1
  private lastState = ''

  heading(): string {
    return 'Run'
  }

  protected async load(): Promise<void> {
    const id = this.params.id ?? ''
    this.cancel.addEventListener('click', () => void this.doCancel(id))
    this.append(
      h('section', { 'aria-labelledby': 'run-progress-heading' },
        h('h2', { id: 'run-progress-heading' }, 'Progress'),
        h('label', { for: 'run-progress' }, 'Rows done'),
        this.bar,
        this.barText,
        this.live,
        this.meta,
        this.cancel,
        this.done),
      h('section', { 'aria-labelledby': 'run-counts' }, h('h2', { id: 'run-counts' }, 'Counts'), this.countsBox),
    )
    const run = await call<Run>('GET', `/api/runs/${seg(id)}`)
    this.show(run)
    if (!ENDED.has(run.state)) this.listen(id)
  }

  disconnectedCallback(): void {
    this.source?.close()
    this.source = null
    this.stopPolling()
  }

  private stopPolling(): void {
    if (this.poll !== undefined) window.clearInterval(this.poll)
    this.poll = undefined
  }

  private poll: number | undefined

  private listen(id: string): void {
    const source = new EventSource(url(`/api/runs/${seg(id)}/events`))
    this.source = source
    // A stream the browser gives up on (the server restarted and refused it): poll instead.
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED || this.poll !== undefined || !this.isConnected) return
      this.poll = window.setInterval(() => {
        call<Run>('GET', `/api/runs/${seg(id)}`)
          .then((run) => {
            this.show(run)
            if (ENDED.has(run.state)) this.stopPolling()
          })
          .catch(() => undefined)
      }, 1000)
    })
    source.addEventListener('progress', (e) => this.show(JSON.parse((e as MessageEvent<string>).data) as Run))
    source.addEventListener('end', (e) => {
      source.close()
      this.show(JSON.parse((e as MessageEvent<string>).data) as Run)
    })
  }

  private show(run: Run): void {
    this.retitle(run.kind === 'undo' ? 'Undo run' : 'Run')
    const { done, total } = run.progress
    this.bar.max = Math.max(total, 1)
    this.bar.value = Math.min(done, Math.max(total, 1))
    this.bar.setAttribute('aria-valuetext', `${done} of ${total} rows`)
    this.barText.textContent = `${done.toLocaleString('en')} of ${total.toLocaleString('en')} rows · ${stateText(run)}`
    const any = Object.values(run.counts).some((v) => typeof v === 'number' && v > 0)
    replace(this.countsBox, any || ENDED.has(run.state) ? counts(run.counts, 'Run counts') : h('p', {}, 'The counts appear as the server reports them.'))
    this.meta.textContent = `Started ${when(run.started_at)}${run.uploader ? ` by ${run.uploader}` : ''}${run.finished_at ? `, ended ${when(run.finished_at)}` : ''}.${run.error ? ` Stopped: ${run.error}.` : ''} Closing this page does not stop the run.`
    const tenth = total > 0 ? Math.floor((done * 10) / total) : 0
    if (run.state !== this.lastState || (run.state === 'running' && tenth !== this.lastTenth)) {
      const summary = Object.entries(run.counts)
        .filter(([k, v]) => k !== 'rows' && typeof v === 'number' && v > 0)
        .map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`)
        .join(', ')
      this.live.textContent =
        run.state === 'cancelled'
          ? `Cancelled. ${summary}.`
          : `${stateText(run)}: ${done} of ${total} rows done.${run.state === 'finished' && summary ? ` ${summary}.` : ''}`
      this.lastTenth = tenth
      this.lastState = run.state
    }
    const ended = ENDED.has(run.state)
    this.cancel.hidden = ended
    if (ended && !this.done.hasChildNodes()) {
      replace(this.done, h('p', {}, h('a', { href: `/runs/${seg(run.id)}/results` }, 'See the results')))
    }
  }

  private async doCancel(id: string): Promise<void> {
    this.clearError()
    this.cancel.disabled = true
    try {
      this.show(await call<Run>('POST', `/api/runs/${seg(id)}/cancel`))
    } catch (e) {
      this.fail(e)
    } finally {
      this.cancel.disabled = false
    }
  }
}
customElements.define('bu-run', RunScreen)
