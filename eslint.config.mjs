// Lint rules that encode the architecture (docs/architecture.md):
// services depend on libs, never on each other; each lib may only use the libs
// below it; contracts and domain stay free of runtime frameworks.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const runtimeFrameworks = ['@nestjs/*', 'kafkajs', 'pg', 'pg-copy-streams', 'node-opcua*', 'pino', 'prom-client', 'testcontainers'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', 'bench/out/**', 'deploy/**', 'helm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [{ group: ['../../libs/*', '../../../libs/*', '../../services/*', '**/libs/*/src/*'], message: 'Import a lib through its root entry (@weir/<lib>).' }] }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'lib:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: runtimeFrameworks },
            { sourceTag: 'lib:domain', onlyDependOnLibsWithTags: ['lib:contracts'], bannedExternalImports: runtimeFrameworks },
            { sourceTag: 'lib:config', onlyDependOnLibsWithTags: ['lib:contracts'], bannedExternalImports: ['@nestjs/*', 'kafkajs', 'pg', 'node-opcua*'] },
            { sourceTag: 'lib:observability', onlyDependOnLibsWithTags: ['lib:config', 'lib:contracts'] },
            { sourceTag: 'lib:kafka', onlyDependOnLibsWithTags: ['lib:contracts', 'lib:config', 'lib:observability'] },
            { sourceTag: 'lib:timescale', onlyDependOnLibsWithTags: ['lib:config', 'lib:observability', 'lib:contracts'] },
            { sourceTag: 'lib:opcua', onlyDependOnLibsWithTags: ['lib:contracts', 'lib:config'] },
            { sourceTag: 'lib:detection', onlyDependOnLibsWithTags: ['lib:contracts', 'lib:domain'], bannedExternalImports: runtimeFrameworks },
            { sourceTag: 'lib:testing', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
  {
    // Tests may use the testing lib from any project.
    files: ['**/*.spec.ts', '**/test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
