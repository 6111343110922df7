// Where the screens are mounted: the path the server names in <meta name="bu-base"> (empty at
// a site's root; `/admin/bulk-upload` inside a framework's app). The screens speak in app
// paths (`/runs/run_1`); these turn them into the page's URLs and back.

const meta = document.querySelector<HTMLMetaElement>('meta[name="bu-base"]')
export const BASE = (meta?.content ?? '').replace(/\/+$/, '')

/** The URL path of an app path (`/runs` → `/admin/bulk-upload/runs`). */
export function url(path: string): string {
  return path.startsWith('/') && !path.startsWith('//') ? BASE + path : path
}

/** The app path of a URL path (the inverse of `url`; `/` for the mount point itself). */
export function appPath(pathname: string): string {
  if (!BASE) return pathname
  if (pathname === BASE) return '/'
  return pathname.startsWith(`${BASE}/`) ? pathname.slice(BASE.length) : pathname
}
