import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

// The feature modules (src/modules/<m>/). Each may import src/common, src/config, src/database,
// src/queue and another module's public index (src/modules/<other>/index.ts, imported as '../<other>'),
// never a file inside another module. README "Module map" lists what each index offers.
const MODULES = ['agent', 'channels', 'crypto', 'health', 'inbox', 'opt-outs', 'organizations', 'twilio-sms'];
const moduleBoundaries = MODULES.map((own) => ({
  files: [`src/modules/${own}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(\\.\\./)+(modules/)?(${MODULES.filter((m) => m !== own).join('|')})/`,
            message: "Import another module through its index ('../<module>'), not its internals (README: Module map).",
          },
        ],
      },
    ],
  },
}));

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
  ...moduleBoundaries,
  {
    // Below every module (the shared SMS core, guards, errors, configuration, the database and the
    // job queue): they import no module; a module offers what they need through an abstraction
    // (e.g. ApiKeyResolver). Composition (app.module, bootstrap, cli, openapi/) may import modules.
    files: ['src/common/**/*.ts', 'src/config/**/*.ts', 'src/database/**/*.ts', 'src/queue/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(^|/)modules/', message: 'src/common, src/config, src/database and src/queue sit below the modules and import none of them (README: Module map).' }] },
      ],
    },
  },
);
