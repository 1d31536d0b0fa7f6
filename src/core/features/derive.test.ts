import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { column } from '../../test-helpers/features.js';
import { cleanupTempDirs, tempDir } from '../../test-helpers/fixtures.js';
import { loadPredictor } from '../predictor/from-bundle.js';
import { readPipelineConfig } from '../pipeline/config.js';
import { runPipeline } from '../pipeline/run.js';
import { ConfigError } from '../errors.js';
import type { Table } from '../table.js';
import type { ColumnType } from '../values.js';
import { planFeatures } from './auto.js';
import { DeriveError, Deriver, checkDerivations } from './derive.js';
import { evaluate } from './expression/evaluate.js';
import { ExpressionError, MAX_EXPRESSION_LENGTH } from './expression/language.js';
import { parseExpression } from './expression/parse.js';
import { inputSchema } from './input-schema.js';
import { fitTransform } from './fit-pipeline.js';
import { FeatureTransformer } from './transformer.js';
import type { FittedPipeline } from './types.js';

/** Evaluates one expression over named numbers (NaN = missing), through the real Deriver. */
function calc(expression: string, values: Record<string, number | null> = {}, types: Record<string, ColumnType> = {}): number | null {
  const columns = new Map(Object.keys(values).map((k) => [k, types[k] ?? 'number'] as [string, ColumnType]));
  const d = new Deriver([{ name: 'out', expression }], columns);
  const out = new Float64Array(1);
  d.derive(d.inputs.map((i) => values[i.name] ?? null), out);
  return Number.isNaN(out[0]) ? null : (out[0] as number);
}

function parseFails(expression: string): ExpressionError {
  try {
    parseExpression(expression);
  } catch (err) {
    expect(err).to.be.instanceOf(ExpressionError);
    return err as ExpressionError;
  }
  throw new Error(`parsed ${JSON.stringify(expression)}`);
}

describe('derived columns: the expression language', () => {
  it('computes arithmetic with the usual precedence', () => {
    expect(calc('1 + 2 * 3')).to.equal(7);
    expect(calc('(1 + 2) * 3')).to.equal(9);
    expect(calc('2 ^ 3 ^ 2')).to.equal(512);
    expect(calc('-2 ^ 2')).to.equal(-4);
    expect(calc('7 % 4 - 10 / 4')).to.equal(0.5);
    expect(calc('income / (debt + 1)', { income: 100, debt: 3 })).to.equal(25);
  });

  it('gives 1/0 for comparisons and logic, and binds and tighter than or', () => {
    expect(calc('age >= 18', { age: 18 })).to.equal(1);
    expect(calc('age >= 18', { age: 17 })).to.equal(0);
    expect(calc('1 == 1')).to.equal(1);
    expect(calc('1 != 1')).to.equal(0);
    expect(calc('1 < 2 and 3 > 4')).to.equal(0);
    expect(calc('1 or 0 and 0')).to.equal(1);
    expect(calc('not 0')).to.equal(1);
    expect(calc('not 5')).to.equal(0);
    expect(calc('2 and 3')).to.equal(1);
    expect(calc('1 + 2 > 2')).to.equal(1);
  });

  it('has log, exp, sqrt, abs, round, floor, ceil, min, max and if', () => {
    expect(calc('log(x + 1)', { x: Math.E - 1 })).to.be.closeTo(1, 1e-12);
    expect(calc('exp(0) + sqrt(16) + abs(-2)')).to.equal(7);
    expect(calc('round(2.5) + floor(-1.5) + ceil(1.2)')).to.equal(3 - 2 + 2);
    expect(calc('min(3, 1, 2) + max(3, 1, 2)')).to.equal(4);
    expect(calc('if(age < 30, 1, 0)', { age: 25 })).to.equal(1);
    expect(calc('if(age < 30, 1, 0)', { age: 45 })).to.equal(0);
    expect(calc('if(debt == 0, 0, income / debt)', { debt: 0, income: 5 })).to.equal(0);
  });

  it('reads booleans as 1/0 and datetimes as days since 1970-01-01', () => {
    expect(calc('member + 1', { member: true as unknown as number }, { member: 'boolean' })).to.equal(2);
    expect(calc('signup', { signup: 3 * 86_400_000 + 43_200_000 }, { signup: 'datetime' })).to.equal(3.5);
    expect(calc('n * 2', { n: 4 }, { n: 'integer' })).to.equal(8);
  });

  it('is missing when an input is missing or a step is not finite', () => {
    expect(calc('a + 1', { a: null })).to.equal(null);
    expect(calc('if(a > 0, 1, b)', { a: 1, b: null })).to.equal(null);
    expect(calc('a / b', { a: 1, b: 0 })).to.equal(null);
    expect(calc('0 / 0')).to.equal(null);
    expect(calc('1 / 0 > 5')).to.equal(null);
    expect(calc('log(0)')).to.equal(null);
    expect(calc('sqrt(-1)')).to.equal(null);
    expect(calc('exp(1000)')).to.equal(null);
    expect(calc('0 * -1')).to.equal(0);
  });

  it('lets a derived column use earlier ones, and a missing one propagates', () => {
    const d = new Deriver(
      [
        { name: 'ratio', expression: 'income / debt' },
        { name: 'high', expression: 'ratio > 2' },
      ],
      new Map([
        ['income', 'number'],
        ['debt', 'number'],
      ]),
    );
    const out = new Float64Array(2);
    d.derive([10, 4], out);
    expect([...out]).to.deep.equal([2.5, 1]);
    d.derive([10, 0], out);
    expect(out.every(Number.isNaN)).to.equal(true);
    expect(d.inputs).to.deep.equal([
      { name: 'income', type: 'number' },
      { name: 'debt', type: 'number' },
    ]);
  });

  it('evaluates the parsed tree, not text', () => {
    const p = parseExpression('a * 2');
    expect(p.names).to.deep.equal(['a']);
    (p.root as { a: { slot: number } }).a.slot = 0;
    expect(evaluate(p.root, Float64Array.of(21))).to.equal(42);
  });
});

describe('derived columns: what the language refuses (and never runs)', () => {
  const refused: [string, string][] = [
    ['constructor', 'the name "constructor" is not allowed at character 1'],
    ['__proto__ + 1', 'the name "__proto__" is not allowed at character 1'],
    ['a.constructor', 'syntax error: "." is not allowed (no member access) at character 2'],
    ['a.b', 'syntax error: "." is not allowed (no member access) at character 2'],
    ['toString()', 'the name "toString" is not allowed at character 1'],
    ['a.toString()', 'syntax error: "." is not allowed (no member access) at character 2'],
    ['x = 1', 'syntax error: "=" is not allowed (no assignment; compare with ==) at character 3'],
    ['f(x) = x * 2', 'syntax error: "=" is not allowed (no assignment; compare with ==) at character 6'],
    ['a || "x"', 'syntax error: "|" is not allowed (use or) at character 3'],
    ['"abc"', 'text in quotes is not allowed: expressions compute numbers at character 1'],
    ['a in [1, 2]', 'syntax error: unexpected text (a missing operator?) at character 3'],
    ['[1, 2]', 'syntax error: "[" is not allowed (no arrays) at character 1'],
    ['a ? 1 : 0', 'syntax error: "?" is not allowed (use if(condition, then, else)) at character 3'],
    ['3!', 'syntax error: "!" is not allowed (use not, or != to compare) at character 2'],
    ['a; b', '";" is not allowed: one expression per derived column at character 2'],
    ['sin(a)', 'unknown function "sin" (did you mean "min"?)'],
    ['random()', 'unknown function "random"'],
    ['sqrt', '"sqrt" is a function: call it with parentheses, e.g. sqrt(x)'],
    ['if(a, b)', 'if() takes three arguments (condition, then, else), got 2'],
    ['log(a, b)', 'syntax error: expected ")" at character 6'],
    ['a b', 'syntax error: unexpected text (a missing operator?) at character 3'],
    ['income / (debt + 1', 'syntax error: expected ")" at character 19'],
    ['a + * b', 'syntax error: unexpected "*" at character 5'],
    ['a +', 'syntax error: the expression ends too soon at character 4'],
    ['', 'the expression is empty'],
  ];
  for (const [expression, message] of refused) {
    it(`refuses ${JSON.stringify(expression)}`, () => {
      expect(parseFails(expression).message).to.contain(message);
    });
  }

  it('refuses a very long expression before parsing it', () => {
    const long = `${'1 + '.repeat(400)}1`;
    expect(parseFails(long).message).to.equal(`the expression is ${long.length} characters long; at most ${MAX_EXPRESSION_LENGTH} are allowed`);
    const deep = `${'('.repeat(490)}1${')'.repeat(490)}`;
    expect(parseExpression(deep).names).to.deep.equal([]);
  });

  it('never calls anything: prototype names are refused at parse time, even as columns', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).length;
    for (const e of ['constructor', 'a.constructor.constructor("return 1")()', '__proto__.x = 1', 'toString.call(1)', 'valueOf()']) parseFails(e);
    expect(Object.getOwnPropertyNames(Object.prototype).length).to.equal(before);
    expect(() => new Deriver([{ name: 'x', expression: 'hasOwnProperty + 1' }], new Map([['hasOwnProperty', 'number']]))).to.throw(DeriveError, 'not allowed');
  });

  it('checks names, self and forward references without the data', () => {
    const check = (specs: { name: string; expression: string }[]) => {
      try {
        checkDerivations(specs);
      } catch (err) {
        return `${(err as DeriveError).index}: ${(err as DeriveError).problem}`;
      }
      return 'ok';
    };
    expect(check([{ name: 'a', expression: 'x + 1' }, { name: 'b', expression: 'a * 2' }])).to.equal('ok');
    expect(check([{ name: 'a', expression: 'a + 1' }])).to.equal('0: uses itself ("a")');
    expect(check([{ name: 'a', expression: 'b + 1' }, { name: 'b', expression: '1' }])).to.equal(
      '0: uses "b", which is derived after it; a derived column may only use columns derived before it (move "b" up)',
    );
    expect(check([{ name: 'log', expression: '1' }])).to.equal('0: "log" is a function or operator name; choose another name');
    expect(check([{ name: 'my ratio', expression: '1' }])).to.equal('0: a derived column name is letters, digits and _ (not starting with a digit), so that expressions can use it');
    expect(check([{ name: 'a', expression: 'x +' }])).to.equal('0: syntax error: the expression ends too soon at character 4 of "x +"');
  });
});

function loans(): Table {
  return {
    rowCount: 8,
    columns: [
      column('income', 'number', [50, 80, null, 30, 90, 60, 40, 70]),
      column('debt', 'integer', [0, 10, 5, 20, 0, 5, 15, 1]),
      column('age', 'integer', [17, 40, 25, 60, 33, 19, 52, 28]),
      column('city', 'category', ['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']),
      column('paid', 'boolean', [true, false, true, false, true, true, false, true]),
    ],
  };
}

const DERIVE = [
  { name: 'ratio', expression: 'income / (debt + 1)', path: 'features.derive.ratio', line: 7 },
  { name: 'adult', expression: 'age >= 18', path: 'features.derive.adult', line: 8 },
];

describe('derived columns in the feature pipeline', () => {
  it('plans derived columns as numeric, fits them, and saves the expressions as text (format version 2)', () => {
    const table = loans();
    const plan = planFeatures(table, { target: 'paid', derive: DERIVE, columns: { adult: { kind: 'boolean' } } });
    expect(plan.steps.map((s) => `${s.column}:${s.kind}`)).to.deep.equal(['income:numeric', 'debt:numeric', 'age:numeric', 'city:one-hot', 'ratio:numeric', 'adult:boolean']);
    // boolean does not accept a number column: the fit says so at the config path
    expect(() => fitTransform(table, plan)).to.throw(ConfigError, 'features.columns.adult.kind: featurizer "boolean" does not accept a number column');
    const ok = planFeatures(table, { target: 'paid', derive: DERIVE, drop: ['city'] });
    const { pipeline, transformer, matrix } = fitTransform(table, ok);
    expect(pipeline.formatVersion).to.equal(2);
    expect(pipeline.derive).to.deep.equal([
      { name: 'ratio', expression: 'income / (debt + 1)' },
      { name: 'adult', expression: 'age >= 18' },
    ]);
    expect(pipeline.featureNames).to.include.members(['ratio', 'ratio__missing', 'adult']);
    expect(pipeline.inputs.map((i) => i.name)).to.deep.equal(['income', 'debt', 'age']);
    expect(Object.keys(inputSchema(pipeline).properties as object)).to.deep.equal(['income', 'debt', 'age']);
    expect(transformer.describe()).to.include.members([transformer.describe().find((l) => l.startsWith('ratio (derived: income / (debt + 1)) → numeric'))!]);

    // Batch equals one record at a time, through a pipeline re-read from its JSON.
    const reloaded = new FeatureTransformer(JSON.parse(JSON.stringify(pipeline)) as FittedPipeline);
    const records = [
      { income: 50, debt: 0, age: 17 },
      { income: 80, debt: 10, age: 40, ratio: 1e9 },
      { debt: 5, age: 25 },
      { income: '30', debt: '20', age: '60' },
      { income: 90, debt: 0, age: 33 },
      { income: 60, debt: 5, age: 19 },
      { income: 40, debt: 15, age: 52 },
      { income: 70, debt: 1, age: 28 },
    ];
    records.forEach((r, i) => {
      expect([...reloaded.transformRecord(r)], `row ${i + 1}`).to.deep.equal([...matrix.subarray(i * transformer.width, (i + 1) * transformer.width)]);
    });
    const row0 = reloaded.transformRecord(records[0]!);
    expect(row0[pipeline.featureNames.indexOf('ratio')]).to.equal(50);
    expect(row0[pipeline.featureNames.indexOf('adult')]).to.equal(0);
    const row2 = reloaded.transformRecord(records[2]!);
    expect(row2[pipeline.featureNames.indexOf('ratio__missing')]).to.equal(1);
  });

  it('reports a bad input value once, at its JSON path', () => {
    const table = loans();
    const { pipeline } = fitTransform(table, planFeatures(table, { target: 'paid', derive: DERIVE, drop: ['city'] }));
    const t = new FeatureTransformer(pipeline);
    try {
      t.transformRecord({ income: 'lots', debt: 1, age: 30 }, undefined, '/records/2');
      expect.fail('should refuse');
    } catch (err) {
      expect((err as { details: { path: string }[] }).details.map((d) => d.path)).to.deep.equal(['/records/2/income']);
    }
  });

  it('still loads a version 1 featurizer.json, and refuses a tampered derive list', () => {
    const table = loans();
    const { pipeline } = fitTransform(table, planFeatures(table, { target: 'paid', drop: ['city'] }));
    expect(pipeline.formatVersion).to.equal(1);
    expect(pipeline).not.to.have.property('derive');
    expect(new FeatureTransformer(JSON.parse(JSON.stringify(pipeline)) as FittedPipeline).width).to.equal(pipeline.featureNames.length);
    const derived = fitTransform(table, planFeatures(table, { target: 'paid', derive: DERIVE, drop: ['city'] })).pipeline;
    const tampered = { ...derived, derive: [{ name: 'ratio', expression: 'income.constructor' }, derived.derive![1]!] };
    expect(() => new FeatureTransformer(tampered)).to.throw(ConfigError, 'featurizer.json: derive[0] ("ratio"): syntax error: "." is not allowed (no member access) at character 7');
    expect(() => new FeatureTransformer({ ...derived, formatVersion: 1 })).to.throw(ConfigError, 'format version 2');
  });

  const wrong: [string, { name: string; expression: string }, string][] = [
    ['a misspelt column', { name: 'ratio', expression: 'incme / (debt + 1)' }, 'features.derive.ratio: no column "incme" in the dataset (did you mean "income"?) (line 7)'],
    ['a clash with an input column', { name: 'age', expression: 'debt * 2' }, 'features.derive.age: "age" is already a column of the data; give the derived column another name (line 7)'],
    ['a category column', { name: 'ratio', expression: 'city + 1' }, 'features.derive.ratio: "city" is a category column; expressions read number, integer, boolean and datetime columns (line 7)'],
    ['the target', { name: 'ratio', expression: 'paid + income' }, 'features.derive.ratio: uses the target "paid", which is unknown when predicting (line 7)'],
  ];
  for (const [what, spec, message] of wrong) {
    it(`refuses ${what} once the data is known, with path and line`, () => {
      expect(() => planFeatures(loans(), { target: 'paid', derive: [{ ...spec, path: `features.derive.${spec.name}`, line: 7 }] })).to.throw(ConfigError, message);
    });
  }
});

describe('derived columns: names in backticks', () => {
  it('reads columns whose names are not identifiers: spaces, dots, dashes, leading digits, unicode', () => {
    expect(calc('`Miles per Gallon` / Weight', { 'Miles per Gallon': 30, Weight: 3 })).to.equal(10);
    expect(calc('`price.usd` * 2', { 'price.usd': 4.5 })).to.equal(9);
    expect(calc('`2nd-reading` - `1st-reading`', { '2nd-reading': 7, '1st-reading': 2 })).to.equal(5);
    expect(calc('`Größe (cm)` + `日本` + `🙂`', { 'Größe (cm)': 1, 日本: 2, '🙂': 3 })).to.equal(6);
    expect(calc('`Beak Length (mm)` > 40 and not `is-adult?`', { 'Beak Length (mm)': 41, 'is-adult?': 0 })).to.equal(1);
  });

  it('doubles a backtick inside a quoted name, quotes a column named like a function, and a quoted identifier is the plain name', () => {
    expect(calc('`a``b` + 1', { 'a`b': 1 })).to.equal(2);
    expect(calc('`log` + log(1)', { log: 5 })).to.equal(5);
    expect(calc('`income` + income', { income: 2 })).to.equal(4);
    const p = parseExpression('`Miles per Gallon` / (`Miles per Gallon` + Weight)');
    expect(p.names).to.deep.equal(['Miles per Gallon', 'Weight']);
    expect(p.text).to.equal('`Miles per Gallon` / (`Miles per Gallon` + Weight)');
  });

  it('never confuses a quoted name with a name written in the text', () => {
    // `_0_` is what the first quoted name would be replaced by: it must be skipped.
    expect(calc('`a b` + _0_ * 10', { 'a b': 1, _0_: 2 })).to.equal(21);
    expect(parseExpression('`a b` + _0_ + `c d`').names).to.deep.equal(['a b', '_0_', 'c d']);
  });

  const refused: [string, string][] = [
    ['`Miles per Gallon` / (Weight + 1', 'syntax error: expected ")" at character 33'],
    ['`Miles per Gallon` + * 2', 'syntax error: unexpected "*" at character 22'],
    ['`a b` + `c d', 'syntax error: "`" is not closed (a name in backticks ends with another `) at character 9'],
    ['`unclosed', 'syntax error: "`" is not closed (a name in backticks ends with another `) at character 1'],
    ['`` + 1', 'syntax error: empty name in backticks at character 1'],
    ['`a b`c', 'syntax error: unexpected text (a missing operator?) at character 6'],
    ['2`a b`', 'syntax error: unexpected text (a missing operator?) at character 2'],
    ['`a b` `c d`', 'syntax error: unexpected text (a missing operator?) at character 7'],
    ["`it's` + \"x\"", 'text in quotes is not allowed: expressions compute numbers at character 10'],
    ['`price.usd`.x', 'syntax error: "." is not allowed (no member access) at character 12'],
    ['`constructor` + 1', 'the name "constructor" is not allowed at character 1'],
    ['1 + `__proto__`', 'the name "__proto__" is not allowed at character 5'],
    ['`a b`(2)', 'unknown function "a b"'],
    ['Größe + 1', '"Größe" is not allowed here (write a name with other characters in backticks: `Größe`) at character 1'],
  ];
  for (const [expression, message] of refused) {
    it(`refuses ${JSON.stringify(expression)}, the position counted in the text as written`, () => {
      expect(parseFails(expression).message).to.contain(message);
    });
  }

  it('suggests a misspelt quoted name, written as it must be quoted; an unquoted near miss gets the quoted form', () => {
    const columns = new Map<string, ColumnType>([
      ['Miles per Gallon', 'number'],
      ['Weight', 'number'],
    ]);
    const fails = (expression: string) => {
      try {
        new Deriver([{ name: 'r', expression }], columns);
      } catch (err) {
        return (err as DeriveError).problem;
      }
      return 'ok';
    };
    expect(fails('`Miles per Galon` / Weight')).to.equal('no column "Miles per Galon" in the dataset (did you mean `Miles per Gallon`?)');
    expect(fails('Miles_per_Gallon / Weight')).to.equal('no column "Miles_per_Gallon" in the dataset (did you mean `Miles per Gallon`?)');
    expect(fails('`Wieght` + 1')).to.equal('no column "Wieght" in the dataset (did you mean "Weight"?)');
    expect(() => planFeatures(cars(), { target: 'origin', derive: [{ name: 'r', expression: '`Miles per Galon` / 2', path: 'features.derive.r', line: 9 }] })).to.throw(
      ConfigError,
      'features.derive.r: no column "Miles per Galon" in the dataset (did you mean `Miles per Gallon`?) (line 9)',
    );
    expect(() => checkDerivations([{ name: 'r', expression: '`Miles per Gallon` / (2' }])).to.throw(DeriveError, 'syntax error: expected ")" at character 24 of "`Miles per Gallon` / (2"');
  });

  function cars(): Table {
    return {
      rowCount: 6,
      columns: [
        column('Miles per Gallon', 'number', [18, 15, null, 32, 27, 24]),
        column('weight.kg', 'integer', [1500, 1800, 1200, 900, 1000, 0]),
        column('2nd-owner', 'boolean', [true, false, true, null, false, true]),
        column('origin', 'category', ['us', 'us', 'eu', 'jp', 'jp', 'eu']),
      ],
    };
  }

  it('fits, saves the expressions as written (format version 2) and transforms records the same way after a JSON round trip', () => {
    const table = cars();
    const derive = [
      { name: 'per_kg', expression: '`Miles per Gallon` / `weight.kg` * 1000' },
      { name: 'second', expression: 'if(`2nd-owner`, per_kg, 0)' },
    ];
    const { pipeline, matrix, transformer } = fitTransform(table, planFeatures(table, { target: 'origin', derive }));
    expect(pipeline.formatVersion).to.equal(2);
    expect(pipeline.derive).to.deep.equal(derive);
    expect(pipeline.inputs.map((i) => i.name)).to.deep.equal(['Miles per Gallon', 'weight.kg', '2nd-owner']);
    const reloaded = new FeatureTransformer(JSON.parse(JSON.stringify(pipeline)) as FittedPipeline);
    const records = [
      { 'Miles per Gallon': 18, 'weight.kg': 1500, '2nd-owner': true },
      { 'Miles per Gallon': 15, 'weight.kg': 1800, '2nd-owner': false },
      { 'weight.kg': 1200, '2nd-owner': true },
      { 'Miles per Gallon': 32, 'weight.kg': 900, '2nd-owner': null },
      { 'Miles per Gallon': 27, 'weight.kg': 1000, '2nd-owner': false },
      { 'Miles per Gallon': 24, 'weight.kg': 0, '2nd-owner': true },
    ];
    const w = transformer.width;
    records.forEach((r, i) => expect([...reloaded.transformRecord(r)], `row ${i + 1}`).to.deep.equal([...matrix.subarray(i * w, (i + 1) * w)]));
    expect(reloaded.transformRecord(records[0]!)[pipeline.featureNames.indexOf('per_kg')]).to.equal(12);
    expect(reloaded.transformRecord(records[0]!)[pipeline.featureNames.indexOf('second')]).to.equal(12);
    expect(reloaded.transformRecord(records[1]!)[pipeline.featureNames.indexOf('second')]).to.equal(0);
  });
});

describe('derived columns with names in backticks, through a bundle', function () {
  this.timeout(120_000);
  after(cleanupTempDirs);

  it('pipeline.yaml → run → bundle: featurizer.json keeps the text as written, and the loaded bundle computes the same values', async () => {
    const dir = await tempDir();
    const lines = ['Miles per Gallon,weight.kg,2nd-owner,Größe,origin'];
    for (let i = 0; i < 60; i++) lines.push(`${i % 7 === 3 ? '' : 10 + (i % 23)},${800 + ((i * 37) % 1200)},${i % 3 === 0},${i % 5},${['us', 'eu', 'jp'][i % 3]}`);
    await writeFile(join(dir, 'cars.csv'), `${lines.join('\n')}\n`);
    const expression = '`Miles per Gallon` / `weight.kg` * 1000 + if(`2nd-owner`, `Größe`, 0)';
    await writeFile(
      join(dir, 'pipeline.yaml'),
      ['name: quoted', 'source: cars.csv', 'target: origin', 'seed: 1', 'features:', '  derive:', `    per_kg: ${JSON.stringify(expression)}`, 'model: {trees: 5}', ''].join('\n'),
    );
    const config = await readPipelineConfig(join(dir, 'pipeline.yaml'));
    expect(config.features.derive?.[0]).to.include({ name: 'per_kg', expression, line: 7 });
    const artifacts = join(dir, 'artifacts');
    const run = await runPipeline({ config, artifacts, defaultArtifacts: artifacts });
    const saved = JSON.parse(await readFile(join(run.package.dir, 'featurizer.json'), 'utf8')) as FittedPipeline;
    expect(saved.formatVersion).to.equal(2);
    expect(saved.derive).to.deep.equal([{ name: 'per_kg', expression }]);
    const model = await loadPredictor(run.package.ref, artifacts);
    const at = model.transformer.pipeline.featureNames.indexOf('per_kg');
    const record = { 'Miles per Gallon': 20, 'weight.kg': 1000, '2nd-owner': true, Größe: 3 };
    expect(model.transformer.transformRecord(record)[at]).to.equal(23);
    expect(model.transformer.transformRecord({ ...record, '2nd-owner': false })[at]).to.equal(20);
    // one record (the server's path) and a batch (mlpipe predict's) agree
    const records = [record, { ...record, 'Miles per Gallon': null }, { ...record, Größe: 1, 'weight.kg': 900 }];
    expect(records.map((r) => model.predictOne(r))).to.deep.equal(model.predictMany(records));
  });
});
