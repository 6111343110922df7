'use strict'
// `WebApi`: the administrator's screens of `bulk-upload serve` for a Node web app, over the
// host's own objects (docs/web-host-protocol.md): `hooks` (who is an administrator, a record
// store in the host's database, the catalog, optionally `enqueueRun`), the engine's `store`
// and a `mailer`. Plans, runs, journals, progress, cancel, results and undo are the Rust
// core's; `lms-bulk-upload/express` maps Express's requests to `handle`. An idle WebApi does
// not keep the process alive; its calls in flight and a run on its own thread do (web.rs).

const native = require('./index.js')
const lms = require('./lms.js')

class WebApi {
  /**
   * @param {object} options `hooks`, `store`, `mailer`, `siteUrl` (the screens' public URL,
   *   mount path included), `secret` (32 bytes or more, the same in every process),
   *   `parseOptions`, `execute` (as `execute` takes them, without a default password),
   *   `secureCookies`, `sessionSecs`.
   */
  constructor({ hooks, store, mailer, siteUrl, secret, parseOptions = null, execute = null, secureCookies = false, sessionSecs = null }) {
    const json = JSON.stringify({ siteUrl, secret, parseOptions, execute, secureCookies, sessionSecs })
    this.native = new native.WebApiHandle(lms._bridge(hooks), lms._bridge(store), lms._bridge(mailer), json)
  }

  /**
   * Answers a request below the mount point: `{status, headers: [[name, value]...], body}`
   * where `body` is a Buffer, or `stream`, an async iterable of text chunks (the run's events).
   */
  async handle({ method, path, query = '', headers = [], body = Buffer.alloc(0), peer = null }) {
    const r = await this.native.handle(method, path, query, headers, body, peer)
    return this.#answer(r)
  }

  /** The most bytes of body a request to `path` may have. */
  bodyLimit(method, path) {
    return this.native.bodyLimit(method, path)
  }

  /** The answer to a body over `limit`. */
  tooLarge(limit) {
    return this.#answer(this.native.tooLarge(limit))
  }

  /** Executes a queued run (a job queue's worker calls it): `ended`, `already_ended` or `busy`. */
  run(runId) {
    return this.native.run(String(runId))
  }

  /** Queues again every run that has not ended (call it when the host starts); their ids. */
  resumeUnfinished() {
    return this.native.resumeUnfinished()
  }

  #answer(r) {
    const stream = r.stream
    if (stream == null) {
      const body = r.body
      return { status: r.status, headers: r.headers, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength), stream: null }
    }
    const handle = this.native
    const chunks = {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const chunk = await handle.nextChunk(stream)
            if (chunk === null) return
            yield chunk
          }
        } finally {
          handle.closeStream(stream)
        }
      },
    }
    return { status: r.status, headers: r.headers, body: null, stream: chunks }
  }
}

module.exports = { WebApi }
