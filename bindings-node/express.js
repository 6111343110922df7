'use strict'
// The screens as Express middleware (any framework with Node's req/res will do):
//
//   const bulkUpload = require('lms-bulk-upload/express')
//   app.use('/admin/bulk-upload', bulkUpload({ hooks, store, mailer, siteUrl, secret }))
//
// Mount it before body parsers: it reads the body itself, within the API's limit. The API
// has its own session cookie, CSRF token and Origin check. `middleware.api` is the WebApi
// (its `run(runId)` for the host's job queue worker).

const { WebApi } = require('./web.js')

/** The request's body, or null once it is longer than `limit` (it is then not read further). */
function readBody(req, limit) {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) {
    req.resume()
    return Promise.resolve(null)
  }
  return new Promise((resolve, reject) => {
    const chunks = []
    let length = 0
    req.on('data', (chunk) => {
      length += chunk.length
      if (length > limit) {
        req.pause()
        resolve(null)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(length > limit ? null : Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function headerPairs(headers) {
  const pairs = []
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) pairs.push([name, String(v)])
  }
  return pairs
}

module.exports = function bulkUpload(options) {
  const api = options instanceof WebApi ? options : new WebApi(options)
  let resumed = null
  async function middleware(req, res, next) {
    try {
      // The runs a stop of the host left unfinished: queued again at the first request.
      resumed ??= api.resumeUnfinished().catch((error) => {
        resumed = null // tried again at the next request
        throw error
      })
      await resumed
      const url = new URL(req.url, 'http://host.invalid')
      const path = url.pathname
      const limit = api.bodyLimit(req.method, path)
      const body = await readBody(req, limit)
      const answer =
        body === null
          ? api.tooLarge(limit)
          : await api.handle({ method: req.method, path, query: url.search.slice(1), headers: headerPairs(req.headers), body, peer: req.socket.remoteAddress ?? null })
      res.statusCode = answer.status
      for (const [name, value] of answer.headers) res.setHeader(name, value)
      if (answer.stream === null) {
        res.end(answer.body)
        return
      }
      res.flushHeaders()
      const chunks = answer.stream[Symbol.asyncIterator]()
      res.on('close', () => void chunks.return())
      for (let next = await chunks.next(); !next.done && !res.destroyed; next = await chunks.next()) res.write(next.value)
      res.end()
    } catch (error) {
      next(error)
    }
  }
  middleware.api = api
  return middleware
}
