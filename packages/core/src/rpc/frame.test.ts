/** Frame limits: the reader refuses before allocating, the sender gets a typed error naming the sizes. */
import test from 'ava';
import { FrameReader, frameBodyBytes, frameBuffers } from './frame';
import { FRAME_FORMAT_MAX_BYTES, PREAUTH_MAX_FRAME_BYTES } from './limits';
import { OutOfBandSerializer } from '../objects/serializer';
import { InvalidArgumentError } from '../errors/errors';
import type { EncodedValue } from '../objects/encoded-value';

const serializer = new OutOfBandSerializer();
const encode = (v: unknown): EncodedValue => serializer.encode(v);
const prefix = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

test('a real hello frame is far below the limit for unauthenticated peers', (t) => {
  // What worker-runtime sends: actor id, the 32-hex-digit token, the pid; with the envelope.
  const hello = serializer.encode(
    { t: 'hello', i: 1, b: { actorId: 'actor-1234567', token: 'f'.repeat(32), pid: 4_194_304 } },
    { dropUndefinedProperties: true },
  );
  const bytes = frameBodyBytes(hello);
  t.log(`hello frame: ${bytes} bytes; limit before authentication: ${PREAUTH_MAX_FRAME_BYTES}`);
  t.true(bytes * 16 < PREAUTH_MAX_FRAME_BYTES);
});

test('the reader refuses a length above its limit as soon as the prefix arrives, allocating nothing', (t) => {
  const frames: unknown[] = [];
  const reader = new FrameReader((f) => frames.push(f), 16 * 1024);
  const before = process.memoryUsage().arrayBuffers;
  t.throws(() => reader.push(prefix(0xffff_ffff)), { message: /protocol error: frame of 4,294,967,295 bytes exceeds the limit of 16,384 bytes/ });
  t.true(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
  // The stream is out of step from then on: later chunks are refused too.
  t.throws(() => reader.push(Buffer.alloc(8)), { message: /protocol error/ });
  t.is(frames.length, 0);
});

test('a frame of exactly the limit is read; the limit can be raised between frames', (t) => {
  const frames: EncodedValue[] = [];
  const msg = encode({ data: new Uint8Array(1000).fill(7) });
  const bufs = Buffer.concat(frameBuffers(msg));
  const reader = new FrameReader((f) => frames.push(f), bufs.length - 4);
  reader.push(bufs);
  reader.maxBytes = 10;
  t.throws(() => reader.push(bufs), { message: /exceeds the limit of 10 bytes/ });
  t.is(frames.length, 1);
  t.deepEqual(serializer.decode(frames[0]!), { data: new Uint8Array(1000).fill(7) });
});

test('a frame whose inner lengths point outside it is a protocol error, not a crash', (t) => {
  const reader = new FrameReader(() => t.fail('no frame'));
  const body = Buffer.alloc(24);
  body.writeUInt32LE(1000, 0); // skeleton length beyond the body
  t.throws(() => reader.push(Buffer.concat([prefix(24), body])), { message: /malformed frame/ });
  const reader2 = new FrameReader(() => t.fail('no frame'));
  const body2 = Buffer.alloc(16);
  body2.writeUInt32LE(0xffff_ffff, 4); // 4 billion attachments announced
  t.throws(() => reader2.push(Buffer.concat([prefix(16), body2])), { message: /malformed frame/ });
});

test('a sender above maxFrameBytes gets an InvalidArgumentError naming the size, the limit and the option', (t) => {
  const msg = encode(new Uint8Array(200_000));
  const err = t.throws(() => frameBuffers(msg, 100_000), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /message of 200,\d{3} bytes exceeds .* limit of 100,000 bytes \(maxFrameBytes\); raise it with init\(\{ maxFrameBytes \}\)/);
  t.notThrows(() => frameBuffers(msg, frameBodyBytes(msg)));
});

test('a message over the 4 GiB format limit is a typed error, not a RangeError', (t) => {
  // Views that claim 3 GiB each, never touched: the size check comes before any buffer is built.
  const huge = { buffer: new ArrayBuffer(8), byteOffset: 0, byteLength: 3 * 2 ** 30 } as unknown as Uint8Array;
  const msg: EncodedValue = { skeleton: Buffer.from('{}'), attachments: [huge, huge] };
  const err = t.throws(() => frameBuffers(msg), { instanceOf: InvalidArgumentError });
  t.regex(err!.message, /6,442,45\d,\d{3} bytes exceeds the frame format's limit of 4,294,967,295 bytes/);
  t.is(FRAME_FORMAT_MAX_BYTES, 2 ** 32 - 1);
});
