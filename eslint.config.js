import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'client/dist/', 'bench/results/', 'data/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
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
);
