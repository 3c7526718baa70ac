import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

// docs/ARCHITECTURE.md promises every Redis key, table, column, error code and environment variable.
// This test holds it to that, with no stack: it reads the code (keys.ts, the schema, errors.ts, the
// services' config schemas and .env.example) and the document's tables, and fails on anything the
// code has that the document lacks, or that the document still names after the code dropped it.
//
// The document's tables are found by their header, wherever they are:
//   | Key | keys.ts | …                 every Redis key; the keys.ts cell is the expression that builds it
//   | `<table>` column | …             one table per MySQL table, a row per column
//   | Code | Status | …                every ErrorCode
//   | Variable | Default | Read by | … every environment variable, and the services whose config reads it

const root = fileURLToPath(new URL('../../', import.meta.url))
const doc = readFileSync(join(root, 'docs/ARCHITECTURE.md'), 'utf8')

// --- the document's tables ------------------------------------------------------------------------

interface MarkdownTable { header: string[], rows: string[][] }

const cells = (line: string): string[] => line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim())

function markdownTables (text: string): MarkdownTable[] {
  const tables: MarkdownTable[] = []
  const lines = text.split('\n')
  for (let i = 0; i + 1 < lines.length; i++) {
    const isTableStart = lines[i]?.trim().startsWith('|') === true && /^\s*\|[\s|:-]+\|\s*$/.test(lines[i + 1] ?? '')
    if (!isTableStart || lines[i - 1]?.trim().startsWith('|') === true) continue
    const table: MarkdownTable = { header: cells(lines[i] ?? ''), rows: [] }
    for (let j = i + 2; lines[j]?.trim().startsWith('|') === true; j++) table.rows.push(cells(lines[j] ?? ''))
    tables.push(table)
  }
  return tables
}

/** The first `code span` of a cell, or null. */
const codeOf = (cell: string | undefined): string | null => /`([^`]+)`/.exec(cell ?? '')?.[1] ?? null

const tables = markdownTables(doc)
const tablesWith = (test: (header: string[]) => boolean): MarkdownTable[] => tables.filter((table) => test(table.header))
const firstColumn = (found: MarkdownTable[]): string[] => found.flatMap((table) => table.rows.map((row) => codeOf(row[0]))).filter((v) => v !== null)

function difference (a: Iterable<string>, b: Set<string>): string[] {
  return [...new Set(a)].filter((x) => !b.has(x)).sort()
}

/** Passes when `found` is empty; otherwise the message lists what was found. */
function none (t: { same: (found: unknown, wanted: unknown, message: string) => boolean }, found: string[], ok: string, problem: string): void {
  t.same(found, [], found.length === 0 ? ok : `${problem}: ${found.join('; ')}`)
}

// --- the schema: migrations/*.sql in file-name order when the folder exists, else init.sql --------

type Schema = Map<string, Set<string>>

/** Statements of a SQL text, comments removed; quoted text is kept whole (a `;` in a string is text). */
function statements (sql: string): string[] {
  const out: string[] = []
  let current = ''
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      while (j < sql.length && (sql[j] !== c || sql[j - 1] === '\\')) j++
      current += sql.slice(i, j + 1)
      i = j
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++
      current += '\n'
    } else if (c === '#') {
      while (i < sql.length && sql[i] !== '\n') i++
      current += '\n'
    } else if (c === '/' && sql[i + 1] === '*') {
      i = sql.indexOf('*/', i + 2)
      if (i < 0) i = sql.length
      else i++
      current += ' '
    } else if (c === ';') {
      if (current.trim() !== '') out.push(current.trim())
      current = ''
    } else {
      current += c
    }
  }
  if (current.trim() !== '') out.push(current.trim())
  return out
}

/** Splits on the commas outside parentheses and quotes. */
function topLevel (text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quote = ''
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quote !== '') { if (c === quote && text[i - 1] !== '\\') quote = ''; continue }
    if (c === "'" || c === '"' || c === '`') quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (c === ',' && depth === 0) { parts.push(text.slice(start, i).trim()); start = i + 1 }
  }
  parts.push(text.slice(start).trim())
  return parts.filter((p) => p !== '')
}

const NAME = '`?(\\w+)`?'
const NOT_A_COLUMN = /^(PRIMARY|KEY|INDEX|UNIQUE|CONSTRAINT|FOREIGN|FULLTEXT|SPATIAL|CHECK|PARTITION|PERIOD)\b/i
const unquote = (name: string): string => name.replace(/`/g, '')

/** The text inside the parentheses that open at or after `from`. */
function parenthesized (text: string, from: number): string | null {
  const open = text.indexOf('(', from)
  if (open < 0) return null
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i)
  }
  return null
}

function columnsOf (definitions: string): string[] {
  return topLevel(definitions).filter((d) => !NOT_A_COLUMN.test(d)).map((d) => unquote(d.split(/\s+/)[0] as string))
}

function alterTable (schema: Schema, table: string, actions: string): void {
  const columns = schema.get(table) ?? new Set<string>()
  schema.set(table, columns)
  for (const action of topLevel(actions)) {
    let m: RegExpExecArray | null
    if ((m = /^ADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?([\s\S]*)$/i.exec(action)) !== null) {
      const rest = m[3] as string
      if (m[1] === undefined && NOT_A_COLUMN.test(rest)) continue
      if (rest.startsWith('(')) for (const c of columnsOf(parenthesized(rest, 0) ?? '')) columns.add(c)
      else columns.add(unquote(rest.split(/\s+/)[0] as string))
    } else if ((m = new RegExp(`^MODIFY\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${NAME}`, 'i').exec(action)) !== null) {
      columns.add(m[1] as string)
    } else if ((m = new RegExp(`^CHANGE\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${NAME}\\s+${NAME}`, 'i').exec(action)) !== null) {
      columns.delete(m[1] as string)
      columns.add(m[2] as string)
    } else if ((m = new RegExp(`^RENAME\\s+COLUMN\\s+${NAME}\\s+TO\\s+${NAME}`, 'i').exec(action)) !== null) {
      columns.delete(m[1] as string)
      columns.add(m[2] as string)
    } else if ((m = new RegExp(`^RENAME\\s+(?:TO\\s+|AS\\s+)?${NAME}$`, 'i').exec(action)) !== null) {
      schema.delete(table)
      schema.set(m[1] as string, columns)
    } else if ((m = /^DROP\s+(COLUMN\s+)?(IF\s+EXISTS\s+)?([\s\S]*)$/i.exec(action)) !== null) {
      const rest = m[3] as string
      if (m[1] === undefined && NOT_A_COLUMN.test(rest)) continue
      columns.delete(unquote(rest.split(/\s+/)[0] as string))
    }
  }
}

function applySql (schema: Schema, sql: string): void {
  for (const statement of statements(sql)) {
    let m: RegExpExecArray | null
    if ((m = new RegExp(`^CREATE\\s+TABLE\\s+(IF\\s+NOT\\s+EXISTS\\s+)?${NAME}`, 'i').exec(statement)) !== null) {
      const table = m[2] as string
      const body = parenthesized(statement, m[0].length)
      if (body === null || (m[1] !== undefined && schema.has(table))) continue
      schema.set(table, new Set(columnsOf(body)))
    } else if ((m = new RegExp(`^ALTER\\s+(?:ONLINE\\s+|IGNORE\\s+)*TABLE\\s+${NAME}\\s+([\\s\\S]*)$`, 'i').exec(statement)) !== null) {
      alterTable(schema, m[1] as string, m[2] as string)
    } else if ((m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?([\s\S]*)$/i.exec(statement)) !== null) {
      for (const name of topLevel(m[2] as string)) schema.delete(unquote(name))
    } else if ((m = /^RENAME\s+TABLE\s+([\s\S]*)$/i.exec(statement)) !== null) {
      for (const pair of topLevel(m[1] as string)) {
        const [from = '', to = ''] = pair.split(/\s+TO\s+/i).map(unquote)
        const columns = schema.get(from)
        if (columns !== undefined) { schema.delete(from); schema.set(to, columns) }
      }
    }
  }
}

function readSchema (dir: string): { source: string, schema: Schema } {
  const schema: Schema = new Map()
  const migrations = join(dir, 'migrations')
  if (existsSync(migrations)) {
    const files = readdirSync(migrations).filter((f) => f.endsWith('.sql') && !f.endsWith('.undo.sql')).sort()
    for (const file of files) applySql(schema, readFileSync(join(migrations, file), 'utf8'))
    return { source: `migrations/ (${files.join(', ')})`, schema }
  }
  applySql(schema, readFileSync(join(dir, 'init.sql'), 'utf8'))
  return { source: 'init.sql', schema }
}

// --- the environment: every service's config schema, and .env.example ------------------------------

/** A service's short name as the document writes it: catalog-service → catalog, order-gateway → gateway. */
const shortName = (dir: string): string => dir.replace(/^order-/, '').replace(/-service$/, '')

/**
 * Every variable of every config schema (services/<dir>/src/config.ts, the shared groups included), and
 * which services read each: the keys of the `…Env` objects a service's config.ts exports.
 */
async function configVariables (): Promise<{ names: Set<string>, readers: Map<string, Set<string>>, services: string[] }> {
  const names = new Set<string>()
  const readers = new Map<string, Set<string>>()
  const services: string[] = []
  for (const dir of readdirSync(join(root, 'services')).sort()) {
    const file = join(root, 'services', dir, 'src', 'config.ts')
    if (!existsSync(file)) continue
    const isService = existsSync(join(root, 'services', dir, 'src', 'server.ts'))
    if (isService) services.push(shortName(dir))
    const module = await import(pathToFileURL(file).href) as Record<string, unknown>
    for (const [exported, value] of Object.entries(module)) {
      if (!exported.endsWith('Env') || typeof value !== 'object' || value === null) continue
      for (const name of Object.keys(value)) {
        if (!/^[A-Z][A-Z0-9_]*$/.test(name)) continue
        names.add(name)
        if (isService) readers.set(name, (readers.get(name) ?? new Set()).add(shortName(dir)))
      }
    }
  }
  return { names, readers, services }
}

const envExample = (): Set<string> =>
  new Set(readFileSync(join(root, '.env.example'), 'utf8').split('\n').map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1]).filter((n) => n !== undefined))

// --- the tests ------------------------------------------------------------------------------------

t.test('every Redis key of keys.ts is in the key table, built the way the table says', async (t) => {
  const keys = await import('../../services/common/src/contracts/keys.ts') as unknown as Record<string, unknown>
  const keyTables = tablesWith((h) => h[0] === 'Key' && h[1] === 'keys.ts')
  t.ok(keyTables.length > 0, 'the document has a | Key | keys.ts | table')
  const ID = 4_242_424_242
  const documented = new Set<string>()
  const wrong: string[] = []
  for (const row of keyTables.flatMap((table) => table.rows)) {
    const key = codeOf(row[0])
    const expression = codeOf(row[1])
    if (key === null || expression === null) { wrong.push(`a row without a key or a keys.ts expression: ${row.join(' | ')}`); continue }
    const m = /^(\w+)(?:\((\w*)\))?(?:\.(\w+))?$/.exec(expression)
    const exported = keys[m?.[1] ?? '']
    if (m === null || exported === undefined) { wrong.push(`${expression}: not in keys.ts`); continue }
    const [, name = '', argument, field] = m
    documented.add(field === undefined ? name : `${name}().${field}`)
    // Build the key with the row's placeholders: an id as a number, any other argument as `<name>`.
    let built: unknown = exported
    if (typeof exported === 'function') built = (exported as (a: unknown) => unknown)(argument === 'id' ? ID : `<${argument ?? ''}>`)
    if (field !== undefined) built = (built as Record<string, unknown> | null)?.[field]
    if (typeof built !== 'string') { wrong.push(`${expression}: not a key`); continue }
    const pattern = built.replaceAll(String(ID), '<id>')
    const matches = field?.endsWith('Prefix') === true ? key.startsWith(pattern) && /^<[^>]+>$/.test(key.slice(pattern.length)) : key === pattern
    if (!matches) wrong.push(`${key}: keys.ts builds ${pattern}${field?.endsWith('Prefix') === true ? '<…>' : ''}`)
  }
  const inCode = Object.entries(keys).flatMap(([name, value]) => {
    if (name === 'productKeys' && typeof value === 'function') return Object.keys((value as (id: number) => object)(1)).map((f) => `${name}().${f}`)
    return [name]
  })
  const notKeys = new Set(['productKeys', 'productIdOfTag'])
  const missing = difference(inCode.filter((n) => !notKeys.has(n)), documented)
  none(t, missing, 'every key keys.ts builds has a row', 'keys.ts builds keys missing from the key table')
  none(t, wrong, 'every row names a keys.ts expression that builds its key', 'rows of the key table that keys.ts does not build')
  const unnamed = [...notKeys].filter((n) => n in keys && !doc.includes(`\`${n}`))
  none(t, unnamed, 'the helpers of keys.ts are named', 'keys.ts helpers the document does not name')
})

t.test('every table and column of the schema is documented, and nothing else', async (t) => {
  const { source, schema } = readSchema(root)
  t.ok(schema.size > 0, `the schema (${source}) has tables`)
  const documented: Schema = new Map()
  for (const table of tablesWith((h) => /^`\w+` column$/.test(h[0] ?? ''))) {
    const name = codeOf(table.header[0]) as string
    documented.set(name, new Set([...(documented.get(name) ?? []), ...firstColumn([table])]))
  }
  const missingTables = difference(schema.keys(), new Set(documented.keys()))
  const goneTables = difference(documented.keys(), new Set(schema.keys()))
  none(t, missingTables, `every table of ${source} is described`, `tables of ${source} without a | \`<table>\` column | table`)
  none(t, goneTables, `every table described is in ${source}`, `tables the document describes that ${source} does not create`)
  const missingColumns: string[] = []
  const goneColumns: string[] = []
  for (const [table, columns] of schema) {
    const described = documented.get(table)
    if (described === undefined) continue
    missingColumns.push(...difference(columns, described).map((c) => `${table}.${c}`))
    goneColumns.push(...difference(described, columns).map((c) => `${table}.${c}`))
  }
  none(t, missingColumns, `every column of ${source} is described`, `columns of ${source} missing from the document`)
  none(t, goneColumns, `every column described is in ${source}`, `columns the document names that ${source} does not have`)
})

t.test('every ErrorCode is in the table of codes, and nothing else', async (t) => {
  const { ErrorCode } = await import('../../services/common/src/contracts/errors.ts')
  const inCode = new Set(Object.keys(ErrorCode))
  const documented = new Set(firstColumn(tablesWith((h) => h[0] === 'Code' && h[1] === 'Status')))
  const missing = difference(inCode, documented)
  const gone = difference(documented, inCode)
  none(t, missing, 'every ErrorCode has a row', 'ErrorCode values missing from the | Code | Status | table')
  none(t, gone, 'every row is an ErrorCode', 'codes in the document that errors.ts does not define')
})

t.test('every environment variable is in the table of variables, with the services that read it', async (t) => {
  const { names: read, readers, services } = await configVariables()
  const example = envExample()
  t.ok(read.size > 10, 'the services\' config schemas were read')
  const inCode = new Set([...read, ...example])
  const rows = tablesWith((h) => h[0] === 'Variable' && h[1] === 'Default' && h[2] === 'Read by').flatMap((table) => table.rows)
  const documented = new Set(firstColumn([{ header: [], rows }]))
  const missing = difference(inCode, documented)
  const gone = difference(documented, inCode)
  const notInExample = difference(read, example)
  none(t, missing, 'every variable has a row', 'variables (config schemas, .env.example) missing from the | Variable | Default | Read by | table')
  none(t, gone, 'every row is a variable something reads', 'variables in the document that no config schema or .env.example has')
  none(t, notInExample, 'every variable a service reads is in .env.example', 'variables a service reads that .env.example does not list')
  // "Read by" names services by short name (catalog, gateway, processor, …) or says "every service".
  const wrongReaders: string[] = []
  for (const row of rows) {
    const name = codeOf(row[0])
    if (name === null || !inCode.has(name)) continue
    const cell = row[2] ?? ''
    const said = (/every service/.test(cell) ? services : services.filter((s) => new RegExp(`\\b${s}\\b`).test(cell))).sort()
    const actual = [...(readers.get(name) ?? [])].sort()
    if (said.join(', ') !== actual.join(', ')) wrongReaders.push(`${name}: the table says ${said.join(', ') || 'no service'}, read by ${actual.join(', ') || 'no service'}`)
  }
  none(t, wrongReaders, 'every "Read by" cell names the services whose config schema has the variable', 'wrong "Read by" cells')
})

t.test('the schema reader: migrations in file-name order win over init.sql; CREATE, ADD, MODIFY, CHANGE, DROP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drift-schema-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'init.sql'), 'CREATE TABLE IF NOT EXISTS legacy (id INT);')
  t.same([...readSchema(dir).schema.keys()], ['legacy'], 'without migrations/, the schema is init.sql')

  mkdirSync(join(dir, 'migrations'))
  writeFileSync(join(dir, 'migrations', '002_more.sql'), `
    -- a comment naming ALTER TABLE a DROP COLUMN name; is not a statement
    ALTER TABLE a
      MODIFY COLUMN status ENUM('x', 'y', 'z') NOT NULL,
      ADD COLUMN amount BIGINT UNSIGNED NULL AFTER id,  -- minor units
      ADD COLUMN code VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
      ADD KEY idx_a_amount (status, amount),
      DROP COLUMN gone,
      CHANGE COLUMN old_name new_name INT;
    ALTER TABLE a ADD extra INT, ADD INDEX idx_extra (extra), ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES b (id);
    ALTER TABLE a RENAME COLUMN extra TO spare;
    CREATE TABLE IF NOT EXISTS b (
      id INT NOT NULL, note VARCHAR(10) DEFAULT 'a,b;c', price DECIMAL(10, 2),
      PRIMARY KEY (id), UNIQUE KEY uq (note), CONSTRAINT ck CHECK (price > 0)
    ) ENGINE = InnoDB;
    CREATE TABLE IF NOT EXISTS a (ignored INT);
    /* a block comment */ DROP TABLE IF EXISTS c;`)
  writeFileSync(join(dir, 'migrations', '001_initial.sql'), `
    CREATE TABLE IF NOT EXISTS a (id INT, status ENUM('x', 'y') NOT NULL, gone INT, old_name INT, PRIMARY KEY (id));
    CREATE TABLE c (id INT);`)
  writeFileSync(join(dir, 'migrations', '002_more.undo.sql'), 'DROP TABLE a;')
  const { source, schema } = readSchema(dir)
  t.equal(source, 'migrations/ (001_initial.sql, 002_more.sql)', 'with migrations/, its files in name order; init.sql and undo files ignored')
  t.same(Object.fromEntries([...schema].map(([table, columns]) => [table, [...columns].sort()])), {
    a: ['amount', 'code', 'id', 'new_name', 'spare', 'status'],
    b: ['id', 'note', 'price']
  }, 'tables and columns after every statement, comments and quoted text ignored')
})
