'use strict'
// The screens' hooks as a Node application would write them (async methods, records in a
// Map), and a browser's calls to WebApi.handle (the session cookie and CSRF token kept).

const ADMIN = 'admin@lms.test'
const PASSWORD = 'correct horse battery staple'
const ORIGIN = 'http://lms.test'

class Hooks {
  constructor() {
    this.records = new Map()
    this.seq = 0
    this.queue = []
  }
  async authenticate(email, password) {
    return email === ADMIN && password === PASSWORD ? ADMIN : null
  }
  async getRecord(kind, id) {
    const r = this.records.get(`${kind}\u0000${id}`)
    return r ? { version: r.version, doc: structuredClone(r.doc) } : null
  }
  async putRecord(kind, id, doc, expected) {
    const key = `${kind}\u0000${id}`
    const old = this.records.get(key)
    if (expected === 0 && old) return false
    if (expected !== null && expected !== 0 && old?.version !== expected) return false
    this.records.set(key, { kind, id, doc, version: (old?.version ?? 0) + 1, seq: old?.seq ?? ++this.seq })
    return true
  }
  async listRecords(kind, offset, limit) {
    const all = [...this.records.values()].filter((r) => r.kind === kind).sort((a, b) => b.seq - a.seq)
    return { total: all.length, items: all.slice(offset, offset + limit).map((r) => ({ id: r.id, doc: r.doc })) }
  }
  async deleteRecord(kind, id) {
    this.records.delete(`${kind}\u0000${id}`)
  }
  async catalog() {
    return { groups: [{ id: 1, name: 'Sales' }], content: [] }
  }
  async enqueueRun(runId) {
    this.queue.push(runId)
  }
}

/** A browser on `api`: `call(method, target, body, type)` → `{status, json, answer}`. */
function client(api) {
  let cookie = ''
  const c = {
    csrf: '',
    async call(method, target, body = '', type = 'application/json') {
      const [path, query = ''] = target.split('?')
      const headers = [['origin', ORIGIN], ['content-type', type], ['cookie', cookie], ['x-csrf-token', c.csrf]]
      const answer = await api.handle({ method, path, query, headers, body: Buffer.from(body), peer: '127.0.0.1' })
      const setCookie = answer.headers.find(([n]) => n === 'set-cookie')
      if (setCookie) cookie = setCookie[1].split(';')[0]
      return { status: answer.status, json: answer.body?.length ? JSON.parse(answer.body) : null, answer }
    },
  }
  return c
}

module.exports = { ADMIN, Hooks, ORIGIN, PASSWORD, client }
