import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'bench/results/**', 'test/client/generated/**', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Configuration is read once, in src/config; everything else gets it injected.
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through AppConfig (src/config).' },
        // The product build compiles src/ only: dev tools and tests stay outside it.
        { selector: 'ImportDeclaration[source.value=/(^|\\/)(tools|test)\\//]', message: 'src/ must not import tools/ or test/ (dev code, not in the build).' },
        { selector: 'ImportExpression[source.value=/(^|\\/)(tools|test)\\//]', message: 'src/ must not import tools/ or test/ (dev code, not in the build).' },
      ],
    },
  },
);
