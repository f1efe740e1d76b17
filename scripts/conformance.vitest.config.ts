// The vitest config `npm run conformance` uses: the root config with a JSON report written where
// scripts/conformance-report.mjs reads it (CONFORMANCE_REPORT), so it never clobbers the report of
// a regular `npm test` run.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import base from '../vitest.config.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
    reporters: [
      'default',
      ['json', { outputFile: process.env.CONFORMANCE_REPORT ?? '.conformance-report.json' }],
    ],
  },
})
