// ESLint (flat config) with typescript-eslint: the house rules that a linter can see (docs/architecture.md).
// Module boundaries between folders are dependency-cruiser's job (.dependency-cruiser.cjs); both run in `npm run lint`.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const UNUSED = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }];

const ENTITY_SOURCE = /\.(entity|entities)$/;

/**
 * Services return our own view types, never entities: a type a service exports (an interface or a type alias) may
 * not extend or be built from an entity class, and an exported service method may not declare an entity in its
 * return type. Entities are recognised by where they are imported from (`*.entity` / `*.entities` files).
 */
const noEntityInServiceApi = {
  meta: {
    type: 'problem',
    docs: { description: 'services expose view types, not entities' },
    messages: {
      extends: "Exported type '{{type}}' is built from the entity '{{entity}}': services return their own view types, not entities (docs/architecture.md).",
      returns: "Public method '{{method}}' returns the entity '{{entity}}': return a view type instead (docs/architecture.md).",
    },
    schema: [],
  },
  create(context) {
    const entities = new Set();
    const entityIn = (node) => {
      let found;
      const visit = (n) => {
        if (!n || typeof n !== 'object' || found) return;
        if (n.type === 'Identifier' && entities.has(n.name)) found = n.name;
        for (const [key, value] of Object.entries(n)) {
          if (key === 'parent') continue;
          if (Array.isArray(value)) value.forEach(visit);
          else if (value && typeof value.type === 'string') visit(value);
        }
      };
      visit(node);
      return found;
    };
    const exported = (node) => node.parent?.type === 'ExportNamedDeclaration';
    return {
      ImportDeclaration(node) {
        if (!ENTITY_SOURCE.test(node.source.value)) return;
        for (const specifier of node.specifiers) {
          // Enums and constants from an entity file are values, not entities: only classes (capitalised, not ALL_CAPS) count.
          const name = specifier.local.name;
          if (/^[A-Z][a-z]/.test(name) && !/(Status|Kind|Platform|Role)$/.test(name)) entities.add(name);
        }
      },
      TSInterfaceDeclaration(node) {
        if (!exported(node)) return;
        const entity = entityIn({ type: 'X', list: node.extends ?? [] });
        if (entity) context.report({ node, messageId: 'extends', data: { type: node.id.name, entity } });
      },
      TSTypeAliasDeclaration(node) {
        if (!exported(node)) return;
        const entity = entityIn(node.typeAnnotation);
        if (entity) context.report({ node, messageId: 'extends', data: { type: node.id.name, entity } });
      },
      MethodDefinition(node) {
        const owner = node.parent?.parent;
        if (!owner || !exported(owner) || node.accessibility === 'private' || node.accessibility === 'protected' || node.key.type === 'PrivateIdentifier')
          return;
        const entity = entityIn(node.value.returnType);
        if (entity) context.report({ node: node.key, messageId: 'returns', data: { method: node.key.name ?? '?', entity } });
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'data/**', 'node_modules/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    plugins: { broadsheet: { rules: { 'no-entity-in-service-api': noEntityInServiceApi } } },
    rules: {
      // Promises: a forgotten await loses errors, and the rules below need the type checker to see them.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': UNUSED,
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@nestjs/common', importNames: ['forwardRef'], message: 'No forwardRef: dependencies point one way (docs/architecture.md).' }] },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // process.env is read in one place: kernel/config validates it into the typed, read-only config.
    files: ['src/**/*.ts'],
    ignores: ['src/kernel/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration from the AppConfig (src/kernel/config), the only reader of process.env.' },
        { object: 'process', property: 'loadEnvFile', message: 'Only src/kernel/config loads .env (loadEnvironment()).' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][computed=true]", message: 'Read configuration from the AppConfig (src/kernel/config).' },
        { selector: "VariableDeclarator[init.name='process'] > ObjectPattern", message: 'Read configuration from the AppConfig (src/kernel/config).' },
      ],
    },
  },
  {
    files: ['src/**/*.service.ts'],
    rules: { 'broadsheet/no-entity-in-service-api': 'error' },
  },
  {
    // Tests may use what production code may not: non-null assertions on what they just created, loose stand-ins.
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { ...globals.node }, sourceType: 'commonjs' },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-unused-vars': UNUSED },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
);
