// Builds dist/app.js and dist/app.css from src/ (deterministic: no timestamps, no source
// maps, fixed target). dist/index.html is written here too so the bundle is one build's output.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync } from 'node:fs'

mkdirSync('dist', { recursive: true })
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  outfile: 'dist/app.js',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
})
// The page a sign-in link opens: its own small bundle, no app shell.
await build({
  entryPoints: ['src/invitation-page.ts'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  outfile: 'dist/invitation.js',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
})
await build({
  entryPoints: ['src/app.css'],
  bundle: true,
  minify: true,
  outfile: 'dist/app.css',
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
})
copyFileSync('src/index.html', 'dist/index.html')
copyFileSync('src/invitation.html', 'dist/invitation.html')
