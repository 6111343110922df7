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

for (const name of ['staff.xlsx', 'staff.xls', 'staff.ods']) {
  test(`the sheets of ${name} are listed in order`, () => {
    const names = lms.sheetNames(read(name))
    assert.deepEqual(names, ['Staff', 'Managers'])
    assert.deepEqual(lms.sheetNames({ path: path.join(FIXTURES, name) }), names)
    // Each name reads its sheet.
    assert.deepEqual(names.map((sheet) => lms.parse(read(name), { sheet }).sheet), names)
  })
}

test('sheetNames of a CSV file and of files it refuses', () => {
  assert.deepEqual(lms.sheetNames(read('staff.csv')), [])
  assert.deepEqual(lms.sheetNames('firstname,lastname,email\n'), [])
  assert.throws(() => lms.sheetNames(read('bomb.xlsx')), { name: 'FileError', code: 'file_too_large' })
  assert.throws(() => lms.sheetNames(read('not_a_workbook.zip')), { name: 'FileError', code: 'unsupported_file' })
  // The parse options' limits hold before the workbook is opened.
  const size = read('staff.xlsx').length
  assert.throws(() => lms.sheetNames(read('staff.xlsx'), { maxFileBytes: size - 1 }), { name: 'FileError', code: 'file_too_large' })
  assert.throws(() => lms.sheetNames(read('staff.xlsx'), { sheets: 'Staff' }), { name: 'SettingsError', code: 'invalid_option' })
})

test('a column matched by hand is read as that column, one ignored is not read', () => {
  // The Staff sheet's "Employee No" and "Start date" are no column of the engine's.
  const plain = lms.parse(read('staff.xlsx'))
  assert.deepEqual(plain.issues.map((i) => [i.code, i.column]), [['unknown_column', 'Employee No'], ['unknown_column', 'Start date'], ['invalid_email', 'emailaddress']])
  assert.ok(plain.rows.every((r) => !('uniqueid' in r.values)))

  const upload = lms.parse(read('staff.xlsx'), { columnAssignments: { 3: 'unique_id', 5: null } })
  assert.deepEqual(upload.issues.map((i) => [i.code, i.line]), [['invalid_email', 5]])
  assert.deepEqual(upload.header.map((h) => [h.header, h.column]), [
    ['First Name', 'firstname'], ['Last Name', 'lastname'], ['Email', 'emailaddress'], ['Employee No', 'uniqueid'],
    ['Phone', 'phonenumber'], ['Start date', null], ['addgroup', 'addgroup'],
  ])
  assert.deepEqual(upload.rows.map((r) => r.values.uniqueid), ['00123', '00456', '00789', '01000'])
  // Every other value as without the assignments.
  const others = upload.rows.map(({ values: { uniqueid, ...rest } }) => rest)
  assert.deepEqual(others, plain.rows.map((r) => r.values))
  // A Map says the same.
  const map = lms.parse(read('staff.xlsx'), { columnAssignments: new Map([[3, 'uniqueid'], [5, null]]) })
  assert.deepEqual(map.rows, upload.rows)
})

test('a required column headed wrongly is matched by hand', () => {
  const text = 'firstname,surnme,emailaddress\nMere,Tū,mere@example.nz\n'
  assert.throws(() => lms.parse(text), { name: 'FileError', code: 'missing_required_column' })
  const upload = lms.parse(text, { columnAssignments: { 1: 'last name' } })
  assert.deepEqual([upload.rows[0].lastName, upload.issues], ['Tū', []])
})

test('a column assignment the header cannot take is the core\'s invalid_option', () => {
  for (const columnAssignments of [{ 7: null }, { 3: 'shoe size' }, { '-1': null }]) {
    assert.throws(() => lms.parse(read('staff.xlsx'), { columnAssignments }), { name: 'SettingsError', code: 'invalid_option' })
  }
  assert.throws(() => lms.parse(read('staff.xlsx'), { columnAssignments: { 7: null } }), /the header has 7 columns, not 8/)
})
