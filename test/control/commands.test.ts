// Parser tests: BIRD 1.6 command grammar, abbreviations, and the exact error replies.

import test from 'ava';
import fc from 'fast-check';
import { MAX_COMMAND_LENGTH, parseCommand, patternMatches, type Command } from '../../src/control/commands.js';
import { fixedSeeds } from '../helpers/property.js';

fixedSeeds('test/control/commands.test.ts');

const ok = (line: string, family: 4 | 6 = 4): Command => {
  const r = parseCommand(line, family);
  if (!r.ok) throw new Error(`${line}: ${r.reply.code} ${r.reply.text}`);
  return r.command;
};
const err = (line: string, family: 4 | 6 = 4): string => {
  const r = parseCommand(line, family);
  if (r.ok) throw new Error(`${line} parsed as ${JSON.stringify(r.command)}`);
  return `${String(r.reply.code).padStart(4, '0')} ${r.reply.text}`;
};

test('full commands', (t) => {
  t.deepEqual(ok('show status'), { kind: 'showStatus' });
  t.deepEqual(ok('show protocols'), { kind: 'showProtocols', detail: false });
  t.deepEqual(ok('show protocols all Mesh_10_0_0_2'), { kind: 'showProtocols', detail: true, select: { kind: 'name', name: 'Mesh_10_0_0_2' } });
  t.deepEqual(ok('show protocols all "Mesh*"'), { kind: 'showProtocols', detail: true, select: { kind: 'pattern', pattern: 'Mesh*' } });
  t.deepEqual(ok('show interfaces summary'), { kind: 'showInterfaces', summary: true });
  t.deepEqual(ok('show memory'), { kind: 'showMemory' });
  t.deepEqual(ok('show symbols'), { kind: 'showSymbols' });
  t.deepEqual(ok('disable all'), { kind: 'protocolAction', action: 'disable', select: { kind: 'all' } });
  t.deepEqual(ok('restart "Node_*"'), { kind: 'protocolAction', action: 'restart', select: { kind: 'pattern', pattern: 'Node_*' } });
  t.deepEqual(ok('reload in Mesh_1'), { kind: 'reload', direction: 'in', select: { kind: 'name', name: 'Mesh_1' } });
  t.deepEqual(ok('reload all'), { kind: 'reload', direction: 'both', select: { kind: 'all' } });
  t.deepEqual(ok('configure'), { kind: 'configure', mode: 'apply' });
  t.deepEqual(ok('configure soft'), { kind: 'configure', mode: 'soft' });
  t.deepEqual(ok('configure check'), { kind: 'configure', mode: 'check' });
  t.deepEqual(ok('configure timeout 60'), { kind: 'configure', mode: 'timeout' });
  t.deepEqual(ok('configure "/x.conf"'), { kind: 'configure', mode: 'apply', file: '/x.conf' });
  t.deepEqual(ok('configure confirm'), { kind: 'configure', mode: 'confirm' });
  t.deepEqual(ok('restrict'), { kind: 'restrict' });
});

test('show route arguments in any order', (t) => {
  const c = ok('show route all protocol Mesh_1 10.65.0.0/26');
  t.deepEqual(c, { kind: 'showRoute', query: { detail: true, count: false, stats: false, primaryOnly: false, filteredOnly: false, protocol: 'Mesh_1', prefix: '10.65.0.0/26' } });
  const d = ok('show route for 10.65.1.1 count');
  t.true(d.kind === 'showRoute' && d.query.count && d.query.forAddress === '10.65.1.1');
  const e = ok('show route export Mesh_2 primary');
  t.true(e.kind === 'showRoute' && e.query.exportOf === 'Mesh_2' && e.query.primaryOnly);
  const v6 = ok('show route for fd00:65::1', 6);
  t.true(v6.kind === 'showRoute' && v6.query.forAddress === 'fd00:65::1');
  t.true(ok('show route ::ffff:10.0.0.0/104', 6).kind === 'showRoute');
});

test('abbreviations as birdc expands them', (t) => {
  t.deepEqual(ok('sh pro'), ok('show protocols'));
  t.deepEqual(ok('sh pro al Mesh_1'), ok('show protocols all Mesh_1'));
  t.deepEqual(ok('sh ro cou'), ok('show route count'));
  t.deepEqual(ok('sh st'), ok('show status')); // `st` is not a prefix of `symbols`
  t.is(err('SHOW STATUS'), '9001 syntax error'); // keywords are case-sensitive in BIRD
  t.is(err('sh s'), '9001 syntax error'); // status / symbols: ambiguous
  t.is(err('re Mesh_1'), '9001 syntax error'); // restart / reload / restrict
  const strict = parseCommand('sh pro', 4, { abbreviations: false });
  t.false(strict.ok);
});

test('errors exactly as BIRD prints them', (t) => {
  for (const l of ['', 'foo', 'show', 'help', '?', 'quit', 'exit', 'show protocols all Mesh_1 extra', 'enable', 'show route for', 'show "x', 'down'])
    t.is(err(l), '9001 syntax error', l);
  t.is(err('show route 10.65.1.1/26'), '9001 Invalid prefix');
  t.is(err('show route 10.65.1.0/33'), '9001 Invalid prefix length 33');
  t.is(err('show route fd00::/129', 6), '9001 Invalid prefix length 129');
  t.is(err('show protocols all all'), '9001 syntax error');
  t.is(err('disable protocols'), '9001 syntax error');
  t.is(err('show route 10.65.0.0/26 10.65.1.0/26'), '9001 Only one prefix expected');
  t.is(err('show route for fd00::1'), '9001 This is an IPv4 router, therefore IPv6 addresses are not supported');
  t.is(err('show route for 10.0.0.1', 6), '9001 syntax error');
  t.is(err('show ospf'), '9001 There is no OSPF protocol running');
  t.is(err('show ospf Mesh_1'), '9001 Mesh_1: Not a OSPF protocol');
  t.is(err('show bfd sessions'), '9001 There is no BFD protocol running');
  t.is(err(`show protocols ${'x'.repeat(MAX_COMMAND_LENGTH)}`), '9000 Command too long');
});

test('shell patterns', (t) => {
  t.true(patternMatches('Mesh*', 'Mesh_10_0_0_1'));
  t.true(patternMatches('*_0_?', 'Node_10_0_0_3'));
  t.false(patternMatches('Mesh*', 'Node_1'));
  t.false(patternMatches('mesh*', 'Mesh_1'));
  t.true(patternMatches('a.b+(c)', 'a.b+(c)'));
  t.false(patternMatches('a.b', 'axb'));
});

test('the parser never throws and always answers with a BIRD code', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.constantFrom(4 as const, 6 as const), (s, family) => {
      const r = parseCommand(s, family);
      if (!r.ok) return [9000, 9001].includes(r.reply.code) && r.reply.last === true;
      return typeof r.command.kind === 'string';
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

