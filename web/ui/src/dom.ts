// The one way the screens build DOM: elements with attributes and text children. Values from
// the server only ever become text nodes (textContent) or attributes, never markup. An `href`
// that is an app path (`/runs`) is written below the screens' mount point (base.ts).

import { url } from './base.js'

export type Child = Node | string | number | null | undefined | false
export type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') {
      el.addEventListener(name.replace(/^on/, ''), value)
    } else if (value === true) {
      el.setAttribute(name, '')
    } else {
      el.setAttribute(name, name === 'href' ? url(String(value)) : String(value))
    }
  }
  append(el, children)
  return el
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

/** Replaces every child of `el`. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren()
  append(el, children)
}

let counter = 0
/** A fresh id for label/aria links. */
export function uid(prefix: string): string {
  counter += 1
  return `${prefix}-${counter}`
}

/** A byte count for people: 1.5 MB. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`
}

/** An RFC 3339 time in the reader's locale. */
export function when(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString()
}

/** A snake_case count name as words: error_rows -> Error rows. */
export function words(name: string): string {
  const s = name.replace(/_/g, ' ')
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** A definition list of counts, every key shown (0 included). */
export function counts(values: Record<string, unknown>, label: string): HTMLElement {
  const dl = h('dl', { class: 'counts', 'aria-label': label })
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'object' && v !== null) continue
    dl.append(h('div', {}, h('dt', {}, words(k)), h('dd', {}, String(v))))
  }
  return dl
}

/**
 * Tickets for overlapping requests that paint the same part of a screen (a page of rows
 * asked for while a filter changes): only the newest may paint, so a slow answer to an
 * older request never overwrites a newer one.
 */
export class Latest {
  private n = 0
  /** A ticket; calling it says whether its request is still the newest. */
  take(): () => boolean {
    const mine = ++this.n
    return () => mine === this.n
  }
}
