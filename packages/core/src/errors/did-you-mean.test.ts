import test from 'ava';
import { didYouMean, editDistance } from './did-you-mean';

test('editDistance ignores case and counts a swap of neighbours as one edit', (t) => {
  t.is(editDistance('Gloo', 'gloo'), 0);
  t.is(editDistance('glo', 'gloo'), 1);
  t.is(editDistance('nilx', 'nixl'), 1);
  t.is(editDistance('object_store', 'object-store'), 1);
  t.is(editDistance('nope', 'nixl'), 3);
  t.is(editDistance('', 'abc'), 3);
});

test('didYouMean names the closest candidate within reach, and nothing otherwise', (t) => {
  const known = ['gloo', 'nixl', 'nccl', 'object-store'];
  t.is(didYouMean('Gloo', known), 'gloo');
  t.is(didYouMean('NIXL', known), 'nixl');
  t.is(didYouMean('ncll', known), 'nccl');
  t.is(didYouMean('objectstore', known), 'object-store');
  t.is(didYouMean('gloo', known), undefined, 'an exact name is no typo');
  t.is(didYouMean('nope', known), undefined);
  t.is(didYouMean('mpi', known), undefined);
  t.is(didYouMean('gloo2', known), undefined, 'a variant of a known name is another name');
  t.is(didYouMean('nixl-ib', known), undefined);
  t.is(didYouMean('nixll', known), 'nixl', 'a doubled letter is a typo');
});
