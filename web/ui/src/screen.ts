// What every screen shares: its route parameters, a heading that takes focus on arrival,
// and one place to show an error from the server (as text).
import { ApiError } from './api.js'
import { h, replace } from './dom.js'

export abstract class Screen extends HTMLElement {
  params: Record<string, string> = {}
  protected alertBox = h('div', { class: 'alert', role: 'alert' })

  abstract heading(): string

  connectedCallback(): void {
    this.classList.add('screen')
    const heading = h('h1', { tabindex: '-1' }, this.heading())
    this.replaceChildren(heading, this.alertBox)
    document.title = `${this.heading()} · Bulk upload users`
    heading.focus()
    // Until its content has come from the server, the screen is busy and shows only its
    // heading and errors (app.css): nothing appears and then moves under a pointer as the
    // rows arrive above it.
    this.setAttribute('aria-busy', 'true')
    void this.load()
      .catch((e) => this.fail(e))
      .finally(() => this.removeAttribute('aria-busy'))
  }

  /** Sets the heading once the screen knows more (a file's name). */
  protected retitle(text: string): void {
    const heading = this.querySelector('h1')
    if (heading) heading.textContent = text
    document.title = `${text} · Bulk upload users`
  }

  protected abstract load(): Promise<void>

  protected fail(e: unknown): void {
    showError(this.alertBox, e)
  }

  protected clearError(): void {
    this.alertBox.replaceChildren()
  }
}

export function showError(box: HTMLElement, e: unknown): void {
  if (e instanceof ApiError) {
    const list =
      e.issues.length > 0
        ? h(
            'ul',
            {},
            e.issues.slice(0, 20).map((i) =>
              h('li', {}, i.line ? `Line ${i.line}: ` : '', i.message, ' ', h('code', {}, i.code)),
            ),
          )
        : null
    replace(box, h('p', {}, e.detail, ' ', h('code', {}, e.code)), list)
  } else {
    replace(box, h('p', {}, e instanceof Error ? e.message : String(e)))
  }
}
