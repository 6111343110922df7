// The History-API router over the screens' URLs of docs/http-api.md (app paths: below the
// mount point, base.ts).

import { url } from './base.js'

export interface Route {
  screen: string
  params: Record<string, string>
}

const ROUTES: [RegExp, string, string[]][] = [
  [/^\/sign-in$/, 'bu-sign-in', []],
  [/^\/$/, 'bu-upload', []],
  [/^\/uploads\/new$/, 'bu-upload', []],
  [/^\/uploads\/([^/]+)$/, 'bu-report', ['id']],
  [/^\/uploads\/([^/]+)\/settings$/, 'bu-settings', ['id']],
  [/^\/plans\/([^/]+)$/, 'bu-preview', ['id']],
  [/^\/runs$/, 'bu-history', []],
  [/^\/runs\/([^/]+)$/, 'bu-run', ['id']],
  [/^\/runs\/([^/]+)\/results$/, 'bu-results', ['id']],
]

export function match(path: string): Route | null {
  for (const [re, screen, names] of ROUTES) {
    const m = re.exec(path)
    if (!m) continue
    const params: Record<string, string> = {}
    names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1] ?? '')
    })
    return { screen, params }
  }
  return null
}

export const NAVIGATE = 'bu-navigate'

/** Goes to an app path without reloading the app. */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', url(path))
  else history.pushState(null, '', url(path))
  window.dispatchEvent(new CustomEvent(NAVIGATE))
}

/** A path segment for a server id. */
export function seg(id: string): string {
  return encodeURIComponent(id)
}
