// <bu-pager>: Previous / Next over a server-paged list; says "Page 2 of 40 (1,987 rows)".
import { h } from './dom.js'

export class Pager extends HTMLElement {
  page = 1
  perPage = 50
  total = 0
  label = 'rows'
  private prev = h('button', { type: 'button' }, 'Previous page')
  private next = h('button', { type: 'button' }, 'Next page')
  private status = h('span', { class: 'pager-status' })

  constructor() {
    super()
    this.prev.addEventListener('click', () => this.go(this.page - 1))
    this.next.addEventListener('click', () => this.go(this.page + 1))
  }

  connectedCallback(): void {
    this.setAttribute('role', 'navigation')
    if (!this.getAttribute('aria-label')) this.setAttribute('aria-label', `Pages of ${this.label}`)
    this.replaceChildren(this.prev, this.status, this.next)
    this.render()
  }

  get pages(): number {
    return Math.max(1, Math.ceil(this.total / this.perPage))
  }

  update(page: number, perPage: number, total: number): void {
    this.page = page
    this.perPage = perPage
    this.total = total
    this.render()
  }

  private go(page: number): void {
    if (page < 1 || page > this.pages) return
    this.dispatchEvent(new CustomEvent('page', { detail: page }))
  }

  private render(): void {
    this.prev.disabled = this.page <= 1
    this.next.disabled = this.page >= this.pages
    this.status.textContent = `Page ${this.page} of ${this.pages} (${this.total.toLocaleString('en')} ${this.total === 1 ? this.label.replace(/s$/, '') : this.label})`
  }
}
customElements.define('bu-pager', Pager)
