import { expect, it } from 'vitest';
import { renderTable } from './index.js';

it('aligns text left and numbers right, with empty cells for nulls', () => {
  expect(renderTable(['species', 'n'], [['Adelie', 141], ['Gentoo', 7], [null, 12.3456789]])).toBe(
    ['species        n', '───────  ───────', 'Adelie       141', 'Gentoo         7', '         12.3457'].join('\n'),
  );
});
