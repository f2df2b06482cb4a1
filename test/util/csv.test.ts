import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCsv, parseCsv, parseCsvRecords } from '../../src-main/util/csv.ts';

test('CSV round-trips commas, quotes and line breaks', () => {
  const rows = [['path', 'label'], ['/a,b/"c".png', 'line\nbreak'], ['plain', '']];
  assert.deepEqual(parseCsv(formatCsv(rows)), rows);
});

test('CSV output neutralises spreadsheet formulas', () => {
  assert.equal(formatCsv([['=HYPERLINK("x")', 5]]), `"'=HYPERLINK(""x"")",5\r\n`);
});

test('records are keyed by header, a missing column is named, a BOM is ignored', () => {
  assert.deepEqual(parseCsvRecords('\uFEFFPath,Label\nx.png, normal \n', ['path', 'label']), [{ path: 'x.png', label: 'normal' }]);
  assert.throws(() => parseCsvRecords('file,label\nx,y\n', ['path', 'label']), /missing: path/);
  assert.throws(() => parseCsv('"open'), /quoted field/);
});
