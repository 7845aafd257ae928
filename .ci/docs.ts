/** Writes docs/codes.md from the findings catalogue (npm run docs). */
import { writeFileSync } from 'node:fs';
import { renderCodesDoc } from '../src/catalogue/docs.ts';

writeFileSync('docs/codes.md', renderCodesDoc());
