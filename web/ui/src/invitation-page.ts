// The page a personal sign-in link opens (/invitations/{token}): the link is checked, the
// user chooses a password (judged by the server with zxcvbn, hashed with argon2id there),
// then signs in. Stands alone: no administrator's session, no app shell.
import { url as appUrl } from './base.js'
import { h, replace } from './dom.js'

interface Problem {
  code?: string
  detail?: string
}

const main = document.getElementById('invitation') as HTMLElement
const token = decodeURIComponent(location.pathname.split('/').pop() ?? '')

async function post(path: string, body: unknown): Promise<{ ok: boolean; body: Record<string, unknown> & Problem }> {
  const res = await fetch(appUrl(path), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  })
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown> & Problem
  return { ok: res.ok, body: json }
}

/** Replaces the page's content, its heading first, and moves focus to the heading. */
function show(heading: string, ...rest: Node[]): void {
  const title = h('h1', { tabindex: -1 }, heading)
  replace(main, title, ...rest)
  document.title = heading
  title.focus()
}

function deadLink(problem: Problem): void {
  const why =
    problem.code === 'invitation_used'
      ? 'This link was used already: each link works once.'
      : problem.code === 'invitation_expired'
        ? 'This link has expired.'
        : 'This link is not valid (a newer one may have replaced it).'
  show('This link does not work', h('p', {}, why), h('p', {}, 'Ask your administrator for a new link.'))
}

function form(): void {
  const hint = h('p', { id: 'password-hint', class: 'hint' }, 'At least 10 characters. A few unrelated words make a strong password.')
  const password = h('input', {
    id: 'new-password',
    type: 'password',
    name: 'password',
    autocomplete: 'new-password',
    required: true,
    'aria-describedby': 'password-hint',
  })
  const again = h('input', { id: 'repeat-password', type: 'password', name: 'again', autocomplete: 'new-password', required: true })
  const error = h('p', { role: 'alert', class: 'error' })
  const submit = h('button', { type: 'submit' }, 'Set my password')
  const fields = h(
    'form',
    { 'aria-label': 'Choose your password' },
    h('div', { class: 'field' }, h('label', { for: 'new-password' }, 'New password'), password),
    hint,
    h('div', { class: 'field' }, h('label', { for: 'repeat-password' }, 'Repeat the password'), again),
    error,
    submit,
  )
  fields.addEventListener('submit', (e) => {
    e.preventDefault()
    void (async () => {
      replace(error)
      if (password.value !== again.value) {
        replace(error, 'The two passwords differ.')
        again.focus()
        return
      }
      submit.disabled = true
      try {
        const res = await post('/api/invitations/redeem', { token, password: password.value })
        if (res.ok) {
          const url = typeof res.body.sign_in_url === 'string' ? res.body.sign_in_url : appUrl('/')
          show('Your password is set', h('p', {}, 'Use it with your email address to sign in.'), h('p', {}, h('a', { href: url }, 'Sign in')))
        } else if (res.body.code?.startsWith('invitation_')) {
          deadLink(res.body)
        } else {
          replace(error, res.body.detail ?? 'The password could not be set.')
          password.focus()
        }
      } catch {
        replace(error, 'The server could not be reached. Try again.')
      } finally {
        submit.disabled = false
      }
    })()
  })
  show('Choose your password', h('p', {}, 'Your administrator has given you an account. Choose the password you will sign in with.'), fields)
}

void (async () => {
  try {
    const res = await post('/api/invitations/verify', { token })
    if (res.ok) form()
    else deadLink(res.body)
  } catch {
    show('This link could not be checked', h('p', {}, 'The server could not be reached. Try again later.'))
  }
})()
