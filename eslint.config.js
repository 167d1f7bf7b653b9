// Type-aware lint: the rules that catch real bugs in async network code.
import tseslint from 'typescript-eslint';

// No SQL built from strings. Values reach PostgreSQL only as $n parameters
// through the `sql` tag of @rampart/data (packages/data/src/sql.ts); these
// selectors catch the ways SQL gets pasted together instead. The tests are in
// test/lint/sql-concat.test.ts, over test/fixtures/lint/.
//
// A keyword at the start is not enough: "Update ${name} failed" and test names
// such as 'with no rules …' are English. So a text counts as SQL when the
// keyword is followed by the shape SQL gives it (SELECT … FROM, INSERT INTO,
// UPDATE t SET, CREATE TABLE, …), either before the first ${} or, when the
// keyword stands alone (`UPDATE ${table} SET`), right after it.
// esquery regexes cannot contain "/"; none of these do.
const OBJECTS = String.raw`(?:table|index|unique|database|schema|role|user|extension|view|materialized|function|procedure|type|sequence|trigger|policy|domain|publication|subscription|tablespace|owned|default|system|or\s+replace|temp|temporary|unlogged)\b`;
/** SQL whose shape shows before any ${}. */
const SQL_HEAD = [
  String.raw`select\s+(?:\*|distinct\b|count\s*\(|exists\s*\(|[\s\S]*?\bfrom\s)`,
  String.raw`insert\s+into\s`,
  String.raw`update\s+(?:only\s+)?\S+\s+(?:as\s+\S+\s+)?set\s`,
  String.raw`delete\s+from\s`,
  String.raw`with\s+(?:recursive\s+)?\S+(?:\s*\([^)]*\))?\s+as\s*(?:(?:not\s+)?materialized\s*)?\(`,
  String.raw`(?:create|alter|drop)\s+${OBJECTS}`,
  String.raw`truncate\s+(?:table|only)\b`,
  String.raw`grant\s+(?:select|insert|update|delete|truncate|references|trigger|create|connect|temporary|temp|execute|usage|maintain|all)\b`,
  String.raw`copy\s+(?:\(|\S+(?:\s*\([^)]*\))?\s+(?:from|to)\s+(?:stdin|stdout|program|'))`,
].join('|');
/** A keyword alone before the first ${}, and what must follow that ${} for it to be SQL. */
const SQL_SPLIT = [
  [String.raw`select\s+(?:distinct\s+)?`, String.raw`(?:from|as)\s|::`],
  [String.raw`update\s+(?:only\s+)?`, String.raw`(?:as\s+\S+\s+)?set\s`],
  [String.raw`with\s+(?:recursive\s+)?`, String.raw`(?:\([^)]*\)\s*)?as\s*\(`],
  [String.raw`(?:create|alter|drop)\s+`, OBJECTS],
  [String.raw`truncate\s+(?:table\s+|only\s+)*`, String.raw`(?:;|,|restart\b|continue\b|cascade\b|restrict\b)`],
  [String.raw`grant\s+`, String.raw`(?:on|to)\s`],
  [String.raw`copy\s+`, String.raw`(?:\([^)]*\)\s*)?(?:from\s+(?:stdin|program|')|to\s+(?:stdout|program|'))`],
];
/** In a + concatenation the keyword often stands alone ('UPDATE ' + table + ' SET …'); upper case tells it from English. */
const SQL_KEYWORD_ALONE = String.raw`^\s*(?:SELECT|UPDATE|WITH|CREATE|ALTER|DROP|TRUNCATE|GRANT|COPY)\s+$`;
const USE_TAG = 'use the sql tag of @rampart/data: sql`SELECT … WHERE id = ${id}` (values become $n parameters), sql.ident() for names, sql.join() for lists';
const untagged = ':not(TaggedTemplateExpression > TemplateLiteral)';
const otherTag = 'TaggedTemplateExpression:not([tag.type="Identifier"][tag.name="sql"]) > ';
const templateSql = [
  `TemplateLiteral[expressions.length>0][quasis.0.value.raw=/^\\s*(?:${SQL_HEAD})/i]`,
  ...SQL_SPLIT.map(([head, next]) => `TemplateLiteral[quasis.0.value.raw=/^\\s*${head}$/i][quasis.1.value.raw=/^\\s*(?:${next})/i]`),
];
const side = (which) => [
  `[${which}.type="Literal"][${which}.value=/^\\s*(?:${SQL_HEAD})/i]`,
  `[${which}.type="Literal"][${which}.value=/${SQL_KEYWORD_ALONE}/]`,
  `[${which}.type="TemplateLiteral"][${which}.expressions.length=0][${which}.quasis.0.value.raw=/^\\s*(?:${SQL_HEAD})/i]`,
  `[${which}.type="TemplateLiteral"][${which}.expressions.length=0][${which}.quasis.0.value.raw=/${SQL_KEYWORD_ALONE}/]`,
];
const QUERY_METHOD = 'CallExpression[callee.type="MemberExpression"][callee.property.name=/^(?:query|many|one|maybeOne|unsafe)$/]';
const SQL_CONCATENATION = [
  ...templateSql.map((selector) => ({ selector: `${selector}${untagged}`, message: `SQL in a template literal pastes values into the query text: ${USE_TAG}.` })),
  ...templateSql.map((selector) => ({ selector: `${otherTag}${selector}`, message: `SQL in a template with a tag other than sql pastes values into the query text: ${USE_TAG}.` })),
  ...[...side('left'), ...side('right')].map((sides) => ({ selector: `BinaryExpression[operator="+"]${sides}`, message: `SQL built with + pastes values into the query text: ${USE_TAG}.` })),
  { selector: `${QUERY_METHOD}[arguments.0.type="BinaryExpression"][arguments.0.operator="+"]`, message: `A query built with +: ${USE_TAG}.` },
  { selector: `${QUERY_METHOD}[arguments.0.type="TemplateLiteral"][arguments.0.expressions.length>0]`, message: `A query built in a template literal: ${USE_TAG}.` },
];

export default tseslint.config(
  // test/fixtures/lint holds code that breaks these rules on purpose; its test lints it with `ignore: false`.
  { ignores: ['**/node_modules/**', 'bench/results/**', '.rampart/**', 'test/fixtures/lint/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test()/describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // For every file, .js too. A later no-restricted-syntax setting would
    // replace this list, not add to it: add entries here instead.
    rules: { 'no-restricted-syntax': ['error', ...SQL_CONCATENATION] },
  },
  {
    // Tests hand async request handlers to node:http on purpose; a rejection
    // there fails the test through its assertions.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }] },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
