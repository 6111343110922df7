'use strict'
// Spreadsheets and legacy code pages through `parse`: the committed workbooks read like
// their CSV twin, a sheet chosen by name, code pages detected and named, a password column
// warned about (the core's behaviour; the binding passes the bytes and the options).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const lms = require('..')

const FIXTURES = path.join(__dirname, '../../core/tests/fixtures/spreadsheets')
const read = (name) => fs.readFileSync(path.join(FIXTURES, name))
const FIELDS = [{ name: 'employee_no' }, { name: 'start_date', kind: 'date' }]

for (const [name, format] of [['staff.xlsx', 'xlsx'], ['staff.xls', 'xls'], ['staff.ods', 'ods']]) {
  test(`${name} reads like its CSV twin`, () => {
    const twin = lms.parse(read('staff.csv'), { fields: FIELDS })
    const upload = lms.parse(read(name), { fields: FIELDS })
    assert.deepEqual(upload.rows, twin.rows)
    assert.deepEqual(upload.issues, twin.issues)
    assert.deepEqual(upload.issues.map((i) => [i.code, i.line]), [['invalid_email', 5]])
    const report = upload.report()
    assert.deepEqual([report.format, report.sheet, twin.report().format], [format, 'Staff', 'csv'])
    assert.equal(twin.report().sheet, undefined)
    assert.deepEqual(upload.rows[0].custom, { employee_no: '00123', start_date: '2019-02-02' })
  })
}

test('a sheet by name, an unknown one, a zip bomb', () => {
  const upload = lms.parse(read('staff.xls'), { sheet: 'Managers' })
  assert.deepEqual([upload.report().sheet, upload.rows.map((r) => r.values.emailaddress)], ['Managers', ['mere@example.nz']])
  assert.throws(() => lms.parse(read('staff.xlsx'), { sheet: 'Payroll' }), { name: 'FileError', code: 'sheet_not_found' })
  assert.throws(() => lms.parse(read('bomb.xlsx')), { name: 'FileError', code: 'file_too_large' })
})

test('code pages are detected and can be named', () => {
  const polish = lms.parse(read('windows1250_polish.csv'))
  assert.equal(polish.report().encoding, 'windows-1250')
  assert.deepEqual([polish.rows[0].values.firstname, polish.rows[0].values.lastname], ['Łukasz', 'Świątek'])
  assert.deepEqual(polish.issues.map((i) => i.code), ['encoding_guessed'])
  assert.equal(lms.parse(read('shift_jis_japanese.csv')).rows[0].values.firstname, '太郎')
  const named = lms.parse(read('windows1251_russian.csv'), { encoding: 'windows-1251' })
  assert.deepEqual([named.rows[0].values.firstname, named.issues], ['Дмитрий', []])
  assert.throws(() => lms.parse(read('windows1251_russian.csv'), { encoding: 'klingon' }), { name: 'SettingsError', code: 'invalid_option' })
})

test('a password column is never read', () => {
  const upload = lms.parse('firstname,lastname,email,Password\nAna,Lee,ana@example.com,hunter2\n')
  assert.deepEqual(upload.issues.map((i) => [i.code, i.column]), [['password_column', 'Password']])
  assert.ok(!JSON.stringify(upload.rows).includes('hunter2'))
})
