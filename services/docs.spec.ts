// The README's configuration table and .env.example are what operators read; this keeps both equal to the
// variables the services declare (names, defaults, who reads them). services/config.spec.ts checks that
// .env.example names every variable once; this adds its values and the README.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { common, type VariableSet } from '../lib/config';
import { allVariables, SERVICE_GROUPS } from '.';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EVERY_PROCESS = 'every process';

/** How the README writes a default: `value`, "(empty)" for an empty one, "— (required)" when there is none. */
function defaultCell(variable: { default?: string }): string {
  if (variable.default === undefined) return '— (required)';
  return variable.default === '' ? '(empty)' : `\`${variable.default}\``;
}

/** Who reads each variable: "every process" for the common ones, else the service groups whose own service does. */
function readers(): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const name of Object.keys(common.variables)) byName.set(name, [EVERY_PROCESS]);
  for (const [group, services] of Object.entries(SERVICE_GROUPS)) {
    // A group's own service is its last one (bot-gateway brings users along, which lists users' variables).
    const own = services.at(-1)!.config.variables as VariableSet;
    for (const name of Object.keys(own)) {
      if (byName.get(name)?.includes(EVERY_PROCESS)) continue;
      byName.set(name, [...(byName.get(name) ?? []), group]);
    }
  }
  return byName;
}

interface Row {
  name: string;
  defaultValue: string;
  readBy: string[];
}

/** The first table under "## Configuration": `| \`NAME\` | default | read by | meaning |`. */
function configurationRows(markdown: string): Row[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Configuration'));
  if (!section) throw new Error('README.md has no "## Configuration" section');
  const rows: Row[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[1] ?? '')?.[1];
    if (!line.startsWith('|') || name === undefined) continue;
    rows.push({
      name,
      defaultValue: cells[2]!,
      readBy: cells[3]!.split(',').map((group) => group.trim()),
    });
  }
  return rows;
}

/** `KEY=value` lines of .env.example (commented or not), value as written. */
function exampleValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*#?\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values.set(match[1]!, match[2]!.trim());
  }
  return values;
}

describe('docs agree with the code', () => {
  const variables = allVariables() as VariableSet;
  const names = Object.keys(variables);

  describe('README configuration table', () => {
    const rows = configurationRows(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

    it('has one row per variable the services declare, and no other', () => {
      const listed = rows.map((row) => row.name);
      expect({
        missing: names.filter((name) => !listed.includes(name)),
        unknown: listed.filter((name) => !names.includes(name)),
        duplicates: listed.filter((name, index) => listed.indexOf(name) !== index),
      }).to.deep.equal({ missing: [], unknown: [], duplicates: [] });
    });

    it("gives each variable's default as its config declares it", () => {
      const wrong = rows
        .filter((row) => names.includes(row.name) && row.defaultValue !== defaultCell(variables[row.name]!))
        .map((row) => `${row.name}: README says ${row.defaultValue}, code ${defaultCell(variables[row.name]!)}`);
      expect(wrong).to.deep.equal([]);
    });

    it('names the service groups that read each variable', () => {
      const byName = readers();
      const wrong = rows
        .filter((row) => names.includes(row.name))
        .filter((row) => row.readBy.join(', ') !== byName.get(row.name)!.join(', '))
        .map((row) => `${row.name}: README says ${row.readBy.join(', ')}, code ${byName.get(row.name)!.join(', ')}`);
      expect(wrong).to.deep.equal([]);
    });

    it('reads rows of the table and nothing else', () => {
      expect(
        configurationRows(
          [
            '## Quick start',
            '| `NOT_THIS` | `1` | ledger | elsewhere |',
            '## Configuration',
            'Prose mentioning `HTTP_PORT`.',
            '| variable | default | read by | meaning |',
            '| --- | --- | --- | --- |',
            '| `HTTP_PORT` | `3000` | gateway | port |',
            '| `TELEGRAM_BOT_TOKEN` | — (required) | bot-gateway, notifier | token |',
            '## Services',
            '| `ALSO_NOT` | `2` | users | later |',
          ].join('\n'),
        ),
      ).to.deep.equal([
        { name: 'HTTP_PORT', defaultValue: '`3000`', readBy: ['gateway'] },
        { name: 'TELEGRAM_BOT_TOKEN', defaultValue: '— (required)', readBy: ['bot-gateway', 'notifier'] },
      ]);
    });
  });

  describe('.env.example', () => {
    it('shows the default of every variable that has one', () => {
      const values = exampleValues(readFileSync(path.join(ROOT, '.env.example'), 'utf8'));
      const wrong = names
        .filter((name) => variables[name]!.default !== undefined && values.has(name))
        .filter((name) => values.get(name) !== variables[name]!.default)
        .map((name) => `${name}=${values.get(name)} (default ${JSON.stringify(variables[name]!.default)})`);
      expect(wrong).to.deep.equal([]);
    });
  });
});
