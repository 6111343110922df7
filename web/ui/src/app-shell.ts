// <bu-app>: the page's frame (skip link, banner, navigation, main) and the router that puts
// one screen in main. Signed out, every screen but sign-in goes to /sign-in?next=<path>.
import { call, SIGNED_OUT, setCsrf, type Session } from './api.js'
import { appPath } from './base.js'
import { h, replace } from './dom.js'
import { match, navigate, NAVIGATE } from './router.js'
import type { Screen } from './screen.js'

/** A `next` path that stays on this site (an app path, never //host or a scheme). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/'
  return match(next.split('?')[0] ?? '') ? next : '/'
}

export class App extends HTMLElement {
  private session: Session | null = null
  private checked = false
  private main = h('main', { id: 'main', tabindex: '-1' })
  private who = h('span', { class: 'who' })
  private nav = h('nav', { 'aria-label': 'Main' })

  connectedCallback(): void {
    const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out')
    signOut.addEventListener('click', () => void this.signOut())
    replace(
      this.nav,
      h(
        'ul',
        {},
        h('li', {}, h('a', { href: '/uploads/new' }, 'Upload a file')),
        h('li', {}, h('a', { href: '/runs' }, 'History')),
        h('li', {}, this.who),
        h('li', {}, signOut),
      ),
    )
    this.replaceChildren(
      h('a', { class: 'skip', href: '#main' }, 'Skip to main content'),
      h('header', {}, h('p', { class: 'brand' }, 'Bulk upload users'), this.nav),
      this.main,
    )
    this.addEventListener('click', (e) => this.onClick(e))
    window.addEventListener('popstate', () => void this.route())
    window.addEventListener(NAVIGATE, () => void this.route())
    window.addEventListener(SIGNED_OUT, () => {
      this.session = null
      const path = appPath(location.pathname)
      if (path !== '/sign-in') {
        navigate(`/sign-in?next=${encodeURIComponent(path + location.search)}`, true)
      }
    })
    window.addEventListener('bu-signed-in', (e) => {
      this.session = (e as CustomEvent<Session>).detail
      setCsrf(this.session.csrf_token)
    })
    void this.route()
  }

  private onClick(e: MouseEvent): void {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    const a = (e.target as Element).closest('a')
    if (!a || a.hasAttribute('download') || a.target) return
    const href = appPath(a.getAttribute('href') ?? '')
    if (href.startsWith('#')) {
      if (href === '#main') {
        e.preventDefault()
        this.main.focus()
      }
      return
    }
    if (!href.startsWith('/') || href.startsWith('/api/') || !match(href.split('?')[0] ?? '')) return
    e.preventDefault()
    navigate(href)
  }

  private async signOut(): Promise<void> {
    try {
      await call('DELETE', '/api/session')
    } catch {
      // signed out either way
    }
    this.session = null
    setCsrf('')
    navigate('/sign-in')
  }

  private async route(): Promise<void> {
    const path = appPath(location.pathname)
    const route = match(path)
    if (!this.checked && route?.screen !== 'bu-sign-in') {
      this.checked = true
      try {
        this.session = await call<Session>('GET', '/api/session')
        setCsrf(this.session.csrf_token)
      } catch {
        this.session = null
      }
    }
    if (route && route.screen !== 'bu-sign-in' && !this.session) {
      navigate(`/sign-in?next=${encodeURIComponent(path + location.search)}`, true)
      return
    }
    this.nav.hidden = !this.session
    this.who.textContent = this.session ? `Signed in as ${this.session.email}` : ''
    for (const a of this.nav.querySelectorAll('a')) {
      const href = appPath(a.getAttribute('href') ?? '')
      if (href === path || (path === '/' && href === '/uploads/new')) {
        a.setAttribute('aria-current', 'page')
      } else a.removeAttribute('aria-current')
    }
    if (!route) {
      const heading = h('h1', { tabindex: '-1' }, 'Page not found')
      replace(this.main, heading, h('p', {}, h('a', { href: '/uploads/new' }, 'Upload a file')))
      document.title = 'Page not found · Bulk upload users'
      heading.focus()
      return
    }
    const screen = document.createElement(route.screen) as Screen
    screen.params = route.params
    replace(this.main, screen)
  }
}
customElements.define('bu-app', App)
