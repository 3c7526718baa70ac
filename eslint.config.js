import neostandard, { resolveIgnoresFromGitignore } from 'neostandard'
import pluginVue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// `make lint`: neostandard (standard's rules, no semicolons, TypeScript-aware) over the services, the
// tests, the bench and the scripts; eslint-plugin-vue over the front end's single-file components.
// Every rule turned off or loosened below says why: the aim is to catch mistakes, not to reformat code
// that is already consistent.
export default [
  { ignores: [...resolveIgnoresFromGitignore(), 'frontend/public/**'] },
  ...neostandard({ ts: true }),
  ...pluginVue.configs['flat/recommended'],
  {
    rules: {
      // TypeBox's idiom: `const Product = Type.Object(…)` and `type Product = Static<typeof Product>`
      // share a name on purpose; TypeScript itself rejects real redeclarations.
      '@typescript-eslint/no-redeclare': 'off',
      // `void promise` marks a promise deliberately left to run (timers, fire-and-forget pollers).
      'no-void': ['error', { allowAsStatement: true }],
      // Long object literals are wrapped at the line width, several properties a line; one property a
      // line would rewrite dozens of readable literals.
      '@stylistic/object-property-newline': 'off',
      // The loops it flags run until another async task (a timer, a concurrent buyer) clears a flag;
      // the rule cannot see that mutation and only reports false positives here.
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    files: ['frontend/**/*.{ts,vue}'],
    languageOptions: { globals: globals.browser },
    rules: {
      // The front end follows the Vue community's layout: `function name()` without a space and
      // trailing commas in multi-line literals, consistently across its files.
      '@stylistic/space-before-function-paren': ['error', { named: 'never', anonymous: 'ignore', asyncArrow: 'always' }],
      '@stylistic/comma-dangle': ['error', 'only-multiline'],
      // Templates keep short elements on one line (`<button class="x" @click="go">Go</button>`):
      // one attribute or child per line would triple the templates' length.
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off'
    }
  },
  {
    files: ['frontend/**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, sourceType: 'module' } }
  }
]
