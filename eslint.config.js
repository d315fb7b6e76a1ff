import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'client/dist/', 'bench/results/', 'data/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  // Plain JavaScript (build scripts, this file) is outside the TypeScript project: syntax rules only.
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Off (87 places when adopted): stores, fakes and socket handlers implement async ports with
      // synchronous code (SQLite, memory); `async` keeps a throw a rejection, which rewriting each as
      // Promise.resolve/reject would only obscure.
      '@typescript-eslint/require-await': 'off',
      // zod 4.6 counts strings in code points; our limits are UTF-16 units (shared/lengths.ts).
      'no-restricted-properties': [
        'error',
        ...['length', 'minLength', 'maxLength'].map((property) => ({
          object: 'z',
          property,
          message: 'Use minUnits/maxUnits/exactUnits (strings) or minItems/maxItems (arrays) from shared/lengths.ts.',
        })),
      ],
    },
  },
  {
    files: ['tests/**/*.ts'],
    rules: {
      // Off in tests (29 places when adopted): vitest's asymmetric matchers (expect.any, objectContaining),
      // JSON bodies and Playwright's evaluate are typed any; what matters is checked with the shared schemas.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Off in tests (4 places): they print socket frames and errors of unknown shape with String().
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
);
