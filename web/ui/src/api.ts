// The HTTP API of docs/http-api.md: JSON in and out, the CSRF token on every change,
// problem details turned into ApiError.

import { url } from './base.js'

export interface Issue {
  code: string
  severity: 'error' | 'warning'
  line: number | null
  column: string | null
  field: string | null
  value: string | null
  message: string
}
export interface Column {
  index: number
  header: string
  field: string | null
  suggestion: string | null
  assigned: boolean
}
export interface UploadReport {
  id: string
  filename: string
  size: number
  format: 'csv' | 'xlsx' | 'xls' | 'ods' | null
  sheet: string | null
  sheets: string[]
  reading: { sheet: string | null; encoding: string | null }
  encoding: string | null
  delimiter: string | null
  rows: number
  valid_rows: number
  error_rows: number
  errors: number
  warnings: number
  columns: Column[]
  file_issues: Issue[]
  can_plan: boolean
  version: number
}
export interface UploadRow {
  line: number
  cells: (string | null)[]
  valid: boolean
  issues: Issue[]
}
export interface Enrolment {
  kind: 'course' | 'collection' | 'campaign'
  id: string
}
export interface Settings {
  enrol_existing_users: boolean
  update_existing_profiles: boolean
  update_existing_passwords: boolean
  generate_passwords: boolean
  send_invitations?: boolean
  default_password?: string | null
  force_password_reset: boolean
  send_notification_email: boolean
  enrolments: Enrolment[]
  groups: string[]
  default_login_method: string | null
  suspend_missing_users: boolean
  missing_users_threshold: number
  reactivate_suspended_users: boolean
}
export interface PlanView {
  id: string
  upload_id: string | null
  undo_of_run: string | null
  summary: Record<string, number>
  settings: Settings
  excluded_lines: number[]
  approved_run: string | null
  created_at: string
}
export interface PlanRow {
  line: number
  email: string
  first_name: string
  last_name: string
  action: string
  changes: { field: string; before: string | null; after: string | null }[]
  operations: ({ op: string } & Record<string, unknown>)[]
  issues: Issue[]
}
export interface Run {
  id: string
  kind: 'upload' | 'undo'
  plan_id: string | null
  uploader: string | null
  started_at: string
  finished_at: string | null
  state: 'queued' | 'running' | 'finished' | 'cancelled' | 'interrupted'
  progress: { done: number; total: number }
  counts: Record<string, number>
  undone_by: string | null
  undo_of: string | null
  error?: string | null
}
export interface ResultRow {
  line: number
  email: string
  status: string
  user_id: string | null
  done: string[]
  error: { code: string; message: string } | null
}
export interface Page<T> {
  page: number
  per_page: number
  total: number
  items: T[]
}
export interface ContentItem {
  kind: 'course' | 'collection' | 'campaign'
  id: string
  name: string
}
export interface Catalog {
  groups: { id: string; name: string }[]
  content: ContentItem[]
  login_methods: string[]
  fields: (string | { name: string })[]
  max_file_bytes: number
  defaults: Settings
}
export interface Session {
  email: string
  csrf_token: string
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly issues: Issue[] = [],
  ) {
    super(detail)
  }
}

let csrf = ''
export function setCsrf(token: string): void {
  csrf = token
}

/** Fired on window when the server says the session is gone (401 outside sign-in). */
export const SIGNED_OUT = 'bu-signed-out'

async function problem(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {}
  try {
    body = (await res.json()) as Record<string, unknown>
  } catch {
    // not JSON: the status says enough
  }
  const code = typeof body.code === 'string' ? body.code : `http_${res.status}`
  const detail =
    typeof body.detail === 'string'
      ? body.detail
      : typeof body.title === 'string'
        ? body.title
        : `The server answered ${res.status}.`
  const issues = Array.isArray(body.issues) ? (body.issues as Issue[]) : []
  return new ApiError(res.status, code, detail, issues)
}

export async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  raw?: Blob,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf
  let payload: BodyInit | undefined
  if (raw) {
    headers['Content-Type'] = 'application/octet-stream'
    payload = raw
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetch(url(path), { method, headers, body: payload, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached.')
  }
  if (!res.ok) {
    const err = await problem(res)
    if (err.status === 401 && path !== '/api/session') {
      window.dispatchEvent(new CustomEvent(SIGNED_OUT))
    }
    throw err
  }
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === false || v === '') continue
    q.set(k, String(v))
  }
  const s = q.toString()
  return s ? `?${s}` : ''
}

let catalogCache: Promise<Catalog> | null = null
export function catalog(): Promise<Catalog> {
  if (!catalogCache) {
    catalogCache = call<Catalog>('GET', '/api/catalog')
    catalogCache.catch(() => {
      catalogCache = null
    })
  }
  return catalogCache
}

/** The default password typed on the settings screen, kept in memory only (never stored),
 * so that the preview can rebuild a plan without it being echoed back by the server. */
export const defaultPasswords = new Map<string, string>()
