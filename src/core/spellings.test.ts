import { expect } from 'chai';
import { TypeInferrer } from './data/infer.js';
import { classLabels, labelValues } from './models/task.js';
import { SpellingCounter, oppositeSpelling, spell, validSpellings } from './spellings.js';
import { parseBoolean } from './values.js';

function countAll(values: unknown[]): SpellingCounter {
  const counter = new SpellingCounter();
  for (const v of values) counter.add(v);
  return counter;
}

describe('truth spellings (how a boolean column wrote its values)', () => {
  it('keeps the spelling of each truth value: Yes/No, TRUE/FALSE, yes/no', () => {
    expect(countAll(['Yes', 'No', 'No', null, 'Yes']).result()).to.deep.equal({ spellings: { true: 'Yes', false: 'No' }, mixed: [] });
    expect(countAll(['TRUE', 'FALSE']).result().spellings).to.deep.equal({ true: 'TRUE', false: 'FALSE' });
    expect(countAll(['yes', 'no']).result().spellings).to.deep.equal({ true: 'yes', false: 'no' });
    expect(countAll(['True', 'false']).result().spellings).to.deep.equal({ true: 'True', false: 'false' });
  });

  it('a column mixing spellings keeps the most frequent of each (ties: the one seen first) and says which it saw', () => {
    const result = countAll(['yes', 'Yes', 'YES', 'Yes', 'no', 'NO', 'NO', 'No']).result();
    expect(result.spellings).to.deep.equal({ true: 'Yes', false: 'NO' });
    expect(result.mixed).to.deep.equal([
      { value: true, spellings: [{ spelling: 'Yes', count: 2 }, { spelling: 'yes', count: 1 }, { spelling: 'YES', count: 1 }] },
      { value: false, spellings: [{ spelling: 'NO', count: 2 }, { spelling: 'no', count: 1 }, { spelling: 'No', count: 1 }] },
    ]);
    // a tie goes to the spelling seen first, in any chunking of the same values
    expect(countAll(['no', 'yes', 'Yes', 'No']).result().spellings).to.deep.equal({ true: 'yes', false: 'no' });
  });

  it('true/false as written, and real booleans (JSON, SQL), have no spellings: they answer booleans as before', () => {
    expect(countAll(['true', 'false', 'true']).result().spellings).to.equal(undefined);
    expect(countAll([true, false, null]).result().spellings).to.equal(undefined);
    expect(countAll([]).result().spellings).to.equal(undefined);
    // real booleans count as true/false: a few strings among many of them do not win
    expect(countAll([true, true, 'Yes', false, false, 'No']).result().spellings).to.equal(undefined);
  });

  it('reads values as parseBoolean does: white space around is trimmed, other text is not counted', () => {
    expect(countAll([' Yes ', '\tNo', 'maybe', 'Y', 'N', '1', '0', 'yess', '']).result()).to.deep.equal({ spellings: { true: 'Yes', false: 'No' }, mixed: [] });
  });

  it('a column of one truth value only spells the other in the same style', () => {
    expect(countAll(['Yes', 'Yes']).result().spellings).to.deep.equal({ true: 'Yes', false: 'No' });
    expect(countAll(['FALSE']).result().spellings).to.deep.equal({ true: 'TRUE', false: 'FALSE' });
    expect(countAll(['no']).result().spellings).to.deep.equal({ true: 'yes', false: 'no' });
    expect(oppositeSpelling('yEs')).to.equal('no');
    expect(oppositeSpelling('True')).to.equal('False');
  });

  it('Y/N and 1/0 are not booleans (parseBoolean reads true/false/yes/no only): they stay a category and an integer', () => {
    for (const text of ['Y', 'N', 'y', 'n', '1', '0', 'T', 'F', 'on', 'off']) expect(parseBoolean(text), text).to.equal(undefined);
    const yn = new TypeInferrer();
    for (const v of ['Y', 'N', 'Y']) yn.add(v);
    expect(yn.result()).to.equal('category');
    const bits = new TypeInferrer();
    for (const v of ['1', '0', '1']) bits.add(v);
    expect(bits.result()).to.equal('integer');
    // and those labels come back as they were: the text, and numbers
    expect(labelValues(classLabels('category', ['Y', 'N', 'Y']), 'category')).to.deep.equal(['N', 'Y']);
    expect(labelValues(classLabels('integer', [2, 1, 2]), 'integer')).to.deep.equal([1, 2]);
  });

  it('validSpellings refuses spellings that do not read as their own truth value (a damaged or hand-edited file)', () => {
    expect(validSpellings({ true: 'Yes', false: 'No' })).to.deep.equal({ true: 'Yes', false: 'No' });
    expect(validSpellings({ true: 'No', false: 'Yes' })).to.equal(undefined);
    expect(validSpellings({ true: 'Oui', false: 'Non' })).to.equal(undefined);
    expect(validSpellings({ true: 'true', false: 'false' })).to.equal(undefined);
    expect(validSpellings('Yes/No')).to.equal(undefined);
    expect(validSpellings(null)).to.equal(undefined);
  });

  it('boolean class labels sort false first however spelled, and answer as spelled; true/false labels (old bundles) answer booleans', () => {
    expect(classLabels('boolean', ['Yes', 'No'])).to.deep.equal(['No', 'Yes']);
    expect(classLabels('boolean', ['YES', 'no'])).to.deep.equal(['no', 'YES']);
    expect(classLabels('boolean', ['true', 'false'])).to.deep.equal(['false', 'true']);
    expect(labelValues(['No', 'Yes'], 'boolean')).to.deep.equal(['No', 'Yes']);
    expect(labelValues(['false', 'true'], 'boolean')).to.deep.equal([false, true]);
    // spellings that only differ from true/false on one side answer strings on both: never a mix
    expect(labelValues(['faLse', 'true'], 'boolean')).to.deep.equal(['faLse', 'true']);
    expect(spell(true, { true: 'Yes', false: 'No' })).to.equal('Yes');
    expect(spell(false, undefined)).to.equal(false);
  });
});
