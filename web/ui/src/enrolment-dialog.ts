// <bu-enrolments>: "Manage Enrolments" as the seed draws it — a modal dialog: Register Into
// course / collection / campaign, the available items (searchable), Add>, <Del, Clear,
// Submit. It traps focus, closes on Escape (nothing changed) and gives focus back.
import type { ContentItem, Enrolment } from './api.js'
import { h, replace } from './dom.js'

const KINDS: [ContentItem['kind'], string][] = [
  ['course', 'Course'],
  ['collection', 'Collection'],
  ['campaign', 'Campaign'],
]

function key(e: Enrolment): string {
  return `${e.kind}:${e.id}`
}

export class EnrolmentDialog extends HTMLElement {
  items: ContentItem[] = []
  /** The committed choice (Submit). */
  value: Enrolment[] = []
  private working: Enrolment[] = []
  private kind: ContentItem['kind'] = 'course'
  private opener: HTMLElement | null = null
  private dialog = h('dialog', { 'aria-labelledby': 'enrol-title', 'aria-describedby': 'enrol-help' })
  private search = h('input', { id: 'enrol-search', type: 'search', autocomplete: 'off' })
  private available = h('select', { id: 'enrol-available', multiple: true, size: 8 })
  private chosen = h('select', { id: 'enrol-selected', multiple: true, size: 8 })
  private count = h('p', { class: 'status', role: 'status' })

  connectedCallback(): void {
    if (this.dialog.isConnected) return
    const radios = KINDS.map(([k, label]) => {
      const r = h('input', { type: 'radio', name: 'enrol-kind', id: `enrol-kind-${k}`, value: k, checked: k === this.kind })
      r.addEventListener('change', () => {
        this.kind = k
        this.renderAvailable()
      })
      return h('span', { class: 'check' }, r, h('label', { for: `enrol-kind-${k}` }, label))
    })
    const add = h('button', { type: 'button' }, 'Add>')
    const del = h('button', { type: 'button' }, '<Del')
    const clear = h('button', { type: 'button' }, 'Clear')
    const submit = h('button', { type: 'button', class: 'primary' }, 'Submit')
    const cancel = h('button', { type: 'button' }, 'Cancel')
    add.setAttribute('aria-label', 'Add>')
    del.setAttribute('aria-label', '<Del')
    add.addEventListener('click', () => this.add())
    del.addEventListener('click', () => this.del())
    clear.addEventListener('click', () => {
      this.working = []
      this.render()
    })
    submit.addEventListener('click', () => {
      this.value = [...this.working]
      this.close()
      this.dispatchEvent(new CustomEvent('change', { bubbles: true }))
    })
    cancel.addEventListener('click', () => this.close())
    this.search.addEventListener('input', () => this.renderAvailable())
    this.available.addEventListener('dblclick', () => this.add())
    this.chosen.addEventListener('dblclick', () => this.del())
    this.dialog.addEventListener('cancel', (e) => {
      e.preventDefault()
      this.close()
    })
    this.dialog.addEventListener('keydown', (e) => this.trap(e))
    replace(
      this.dialog,
      h('h2', { id: 'enrol-title' }, 'Manage Enrolments'),
      h('p', { id: 'enrol-help' }, 'Every user the file creates (and existing users, with “Enrol existing users”) is enrolled in the selected items.'),
      h('fieldset', {}, h('legend', {}, 'Register Into'), radios),
      h('div', { class: 'field' }, h('label', { for: 'enrol-search' }, 'Search by name'), this.search),
      h(
        'div',
        { class: 'shuttle' },
        h('div', { class: 'field' }, h('label', { for: 'enrol-available' }, 'Available'), this.available),
        h('div', { class: 'shuttle-buttons' }, add, del, clear),
        h('div', { class: 'field' }, h('label', { for: 'enrol-selected' }, 'Selected'), this.chosen),
      ),
      this.count,
      h('div', { class: 'dialog-actions' }, submit, cancel),
    )
    this.append(this.dialog)
  }

  open(opener: HTMLElement): void {
    this.opener = opener
    this.working = [...this.value]
    this.search.value = ''
    this.render()
    this.dialog.showModal()
    this.querySelector<HTMLInputElement>(`#enrol-kind-${this.kind}`)?.focus()
  }

  private close(): void {
    this.dialog.close()
    this.opener?.focus()
  }

  /** Tab and Shift+Tab cycle inside the dialog. */
  private trap(e: KeyboardEvent): void {
    if (e.key !== 'Tab') return
    const focusable = [...this.dialog.querySelectorAll<HTMLElement>('input, select, button, [tabindex]:not([tabindex="-1"])')].filter(
      (el) => !(el as HTMLButtonElement).disabled && el.offsetParent !== null && !(el instanceof HTMLInputElement && el.type === 'radio' && !el.checked),
    )
    const first = focusable[0]
    const last = focusable[focusable.length - 1]
    if (!first || !last) return
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault()
      last.focus()
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault()
      first.focus()
    }
  }

  private name(e: Enrolment): string {
    const item = this.items.find((i) => i.kind === e.kind && i.id === e.id)
    const kind = KINDS.find(([k]) => k === e.kind)?.[1] ?? e.kind
    return `${kind}: ${item?.name ?? e.id}`
  }

  private add(): void {
    const have = new Set(this.working.map(key))
    for (const o of this.available.selectedOptions) {
      const e: Enrolment = { kind: this.kind, id: o.value }
      if (!have.has(key(e))) this.working.push(e)
    }
    this.render()
  }

  private del(): void {
    const gone = new Set([...this.chosen.selectedOptions].map((o) => o.value))
    this.working = this.working.filter((e) => !gone.has(key(e)))
    this.render()
  }

  private render(): void {
    this.renderAvailable()
    replace(
      this.chosen,
      this.working.map((e) => h('option', { value: key(e) }, this.name(e))),
    )
    this.count.textContent = `${this.working.length} selected`
  }

  private renderAvailable(): void {
    const needle = this.search.value.trim().toLowerCase()
    const have = new Set(this.working.map(key))
    const items = this.items.filter(
      (i) => i.kind === this.kind && !have.has(key(i)) && (!needle || i.name.toLowerCase().includes(needle)),
    )
    replace(
      this.available,
      items.map((i) => h('option', { value: i.id }, i.name)),
    )
  }

  /** The committed choice, named for a summary. */
  names(): string[] {
    return this.value.map((e) => this.name(e))
  }
}
customElements.define('bu-enrolments', EnrolmentDialog)
