// <bu-sign-in>: email and password; on success goes to ?next= (an app path) or the upload.
import { call, setCsrf, type Session } from './api.js'
import { safeNext } from './app-shell.js'
import { h } from './dom.js'
import { navigate } from './router.js'
import { Screen } from './screen.js'

export class SignIn extends Screen {
  heading(): string {
    return 'Sign in'
  }

  protected async load(): Promise<void> {
    const email = h('input', { id: 'signin-email', type: 'email', name: 'email', autocomplete: 'username', required: true })
    const password = h('input', {
      id: 'signin-password',
      type: 'password',
      name: 'password',
      autocomplete: 'current-password',
      required: true,
    })
    const submit = h('button', { type: 'submit' }, 'Sign in')
    const form = h(
      'form',
      { 'aria-label': 'Sign in' },
      h('p', {}, 'Administrators only.'),
      h('div', { class: 'field' }, h('label', { for: 'signin-email' }, 'Email'), email),
      h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'), password),
      submit,
    )
    form.addEventListener('submit', (e) => {
      e.preventDefault()
      void this.submit(email.value, password.value, submit)
    })
    this.append(form)
  }

  private async submit(email: string, password: string, button: HTMLButtonElement): Promise<void> {
    this.clearError()
    button.disabled = true
    try {
      const session = await call<Session>('POST', '/api/session', { email, password })
      setCsrf(session.csrf_token)
      window.dispatchEvent(new CustomEvent('bu-signed-in', { detail: session }))
      navigate(safeNext(new URLSearchParams(location.search).get('next')), true)
    } catch (e) {
      this.fail(e)
    } finally {
      button.disabled = false
    }
  }
}
customElements.define('bu-sign-in', SignIn)
