// <bu-groups>: "Add Groups" — a drop-down of the site's groups and a chip per chosen group
// with an x button to remove it.
import { h, replace } from './dom.js'

export class GroupPicker extends HTMLElement {
  groups: { id: string; name: string }[] = []
  value: string[] = []
  private select = h('select', { id: 'groups-select' })
  private chips = h('ul', { class: 'chips', 'aria-label': 'Chosen groups' })
  private status = h('p', { class: 'status', role: 'status' })

  connectedCallback(): void {
    if (this.select.isConnected) return
    const add = h('button', { type: 'button' }, 'Add group')
    add.addEventListener('click', () => {
      if (!this.select.value) return
      this.value.push(this.select.value)
      this.status.textContent = `Group ${this.select.value} added.`
      this.render()
      this.select.focus()
    })
    this.append(
      h('div', { class: 'field inline' }, h('label', { for: 'groups-select' }, 'Add Groups'), this.select, add),
      this.chips,
      this.status,
    )
    this.render()
  }

  private render(): void {
    const chosen = new Set(this.value)
    replace(
      this.select,
      h('option', { value: '' }, 'Choose a group'),
      this.groups.filter((g) => !chosen.has(g.name)).map((g) => h('option', { value: g.name }, g.name)),
    )
    replace(
      this.chips,
      this.value.map((name, i) => {
        const x = h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove group ${name}` }, 'x')
        x.addEventListener('click', () => {
          this.value.splice(i, 1)
          this.status.textContent = `Group ${name} removed.`
          this.render()
          const next = this.chips.querySelectorAll<HTMLButtonElement>('button')[Math.min(i, this.value.length - 1)]
          ;(next ?? this.select).focus()
          this.dispatchEvent(new CustomEvent('change', { bubbles: true }))
        })
        return h('li', { class: 'chip' }, h('span', {}, name), x)
      }),
    )
    this.dispatchEvent(new CustomEvent('change', { bubbles: true }))
  }
}
customElements.define('bu-groups', GroupPicker)
