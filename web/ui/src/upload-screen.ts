// <bu-upload>: a file picker and a drop zone; the size limit shown; choosing a file sends it
// to the server (which parses it) and opens its validation report.
import { call, catalog, type UploadReport } from './api.js'
import { bytes, h, replace } from './dom.js'
import { navigate, seg } from './router.js'
import { Screen } from './screen.js'

export class UploadScreen extends Screen {
  private status = h('p', { class: 'status', role: 'status' })
  private max = 0

  heading(): string {
    return 'Upload a file'
  }

  protected async load(): Promise<void> {
    const input = h('input', { id: 'upload-file', type: 'file', accept: '.xlsx,.xls,.ods,.csv,.txt,.tsv,text/csv', 'aria-describedby': 'upload-help' })
    const help = h('p', { id: 'upload-help' }, 'A CSV file or a spreadsheet (.xlsx, .xls, .ods) of users, one per row, with a header row. Choosing a file uploads it and opens its validation report.')
    const limit = h('p', { class: 'limit' })
    const zone = h(
      'div',
      { class: 'dropzone' },
      h('label', { for: 'upload-file' }, 'Choose a file'),
      input,
      h('p', { class: 'drop-hint' }, 'or drop the file here'),
    )
    input.addEventListener('change', () => {
      const file = input.files?.[0]
      if (file) void this.send(file)
    })
    zone.addEventListener('dragover', (e) => {
      e.preventDefault()
      zone.classList.add('over')
    })
    zone.addEventListener('dragleave', () => zone.classList.remove('over'))
    zone.addEventListener('drop', (e) => {
      e.preventDefault()
      zone.classList.remove('over')
      const file = e.dataTransfer?.files[0]
      if (file) void this.send(file)
    })
    this.append(help, zone, limit, this.status)
    const cat = await catalog()
    this.max = cat.max_file_bytes
    limit.textContent = `Files up to ${bytes(this.max)}.`
  }

  private async send(file: File): Promise<void> {
    this.clearError()
    if (this.max && file.size > this.max) {
      replace(this.alertBox, h('p', {}, `${file.name} is ${bytes(file.size)}; files up to ${bytes(this.max)} are accepted.`))
      return
    }
    this.status.textContent = `Uploading ${file.name} (${bytes(file.size)}) and validating it…`
    try {
      const report = await call<UploadReport>('POST', `/api/uploads?filename=${encodeURIComponent(file.name)}`, undefined, file)
      this.status.textContent = ''
      navigate(`/uploads/${seg(report.id)}`)
    } catch (e) {
      this.status.textContent = ''
      this.fail(e)
    }
  }
}
customElements.define('bu-upload', UploadScreen)
