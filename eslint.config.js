// The import direction of the layers: commands → daemon → src, commands → src. The core (src/,
// and the migrations it runs) knows no face: no HTTP or CLI library, nothing from commands/ or
// daemon/. The daemon never reaches into the CLI. Only these boundary rules are on; the
// compiler and the tests check the rest.
import {defineConfig} from 'eslint/config'
import tseslint from 'typescript-eslint'

/** Libraries that belong to a face (HTTP or CLI), never to the core. */
const FACE_LIBRARIES = ['express', 'express/*', 'helmet', 'swagger-ui-dist', 'swagger-ui-dist/*', '@oclif/*', 'ink', 'ink/*', 'react', 'react/*', 'react-dom', 'react-dom/*']

const intoFolder = (folder) => ({
  // Relative paths only: the layers import each other that way (no path aliases here).
  regex: `^(\\./|(\\.\\./)+)${folder}(/|$)`,
  message: `The import direction is commands → daemon → src: this layer must not import from ${folder}/.`,
})

const coreRule = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {group: FACE_LIBRARIES, message: 'src/ is the core and imports no face (HTTP or CLI library); put this in daemon/ or commands/.'},
        intoFolder('daemon'),
        intoFolder('commands'),
      ],
    },
  ],
}

export default defineConfig(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**']},
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module'},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
  },
  {files: ['src/**/*.{ts,tsx}', 'migrations/**/*.{ts,tsx}'], rules: coreRule},
  {files: ['daemon/**/*.{ts,tsx}'], rules: {'no-restricted-imports': ['error', {patterns: [intoFolder('commands')]}]}},
)
