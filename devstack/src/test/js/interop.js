#!/usr/bin/env node
'use strict';

/*
 * A third-party Confluent-compatible client driven by KafkajsInteropIT: kafkajs 2.2.4 for Kafka,
 * @kafkajs/confluent-schema-registry (with avsc) for the registry and the wire format.
 *
 * Arguments (--name=value) fall back to environment variables (INTEROP_NAME):
 *   --mode=produce|consume   what to do
 *   --bootstrap=host:port    Kafka bootstrap servers (comma-separated)
 *   --registry=http://...    schema registry URL
 *   --topic=name             the topic (it must exist: the broker does not auto-create topics)
 *   --count=N                records to consume (consume), or a check on the input (produce)
 *   --schema-file=path       produce: the Avro schema text to register
 *   --subject=name           produce: the subject (default: the library's namespace.name)
 *   --records-file=path      produce: one JSON value per line, encoded with the registered id
 *   --timeout-ms=N           consume: give up after this long (default 45000)
 *   --compression=none|lz4   produce: the batches' codec (default none)
 *   --lz4-codec=lz4-napi|none
 *                            the lz4 codec registered with kafkajs (default lz4-napi); with
 *                            none, kafkajs meets an lz4 batch with its own "not implemented" error
 *
 * Output on stdout, one JSON object a line:
 *   {"event":"registered","id":7,"subject":"..."}
 *   {"event":"produced","index":0,"partition":0,"offset":"0","hex":"00000000070a..."}
 *   {"event":"consumed","partition":0,"offset":"0","key":"k","schemaId":7,"hex":"...",
 *    "value":{...},"reencodedHex":"..."}
 *   {"event":"done","count":N}
 * kafkajs implements gzip only. Flywheel's feature-streams and ingest write lz4, so this client
 * registers lz4-napi as kafkajs's lz4 codec, the way a user's kafkajs application would; see
 * lz4Codec.
 *
 * "reencodedHex" is registry.encode(schemaId, decodedValue): this client's own encoding of what it
 * read, to compare byte for byte with what the other side wrote. Longs (timestamp-millis included:
 * no logical types are configured) are JSON numbers. Logs go to stderr. Exit code 0 only on
 * success.
 */

const fs = require('fs');
const { Kafka, logLevel, CompressionTypes, CompressionCodecs } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
const lz4 = require('lz4-napi');

/*
 * kafkajs's codec for lz4 batches, which kafkajs leaves to the application. Kafka's lz4 is the
 * LZ4 frame format, one frame per batch, with independent blocks: the broker refuses a frame
 * whose blocks are linked ("Dependent block stream is unsupported"), which is what the pure
 * JavaScript lz4js writes. lz4-napi (lz4_flex, prebuilt binaries, no native build) writes
 * independent 64 KiB blocks, as Kafka's own Lz4BlockOutputStream does.
 */
const lz4Codec = () => ({
  async compress(encoder) {
    return lz4.compressFrame(encoder.buffer);
  },
  async decompress(buffer) {
    return lz4.decompressFrame(buffer);
  },
});

function options() {
  const out = {};
  for (const arg of process.argv.slice(2)) {
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    if (!match) {
      throw new Error(`unexpected argument ${arg}: use --name=value`);
    }
    out[match[1]] = match[2];
  }
  const get = (name, fallback) => {
    const env = 'INTEROP_' + name.toUpperCase().replace(/-/g, '_');
    const value = out[name] !== undefined ? out[name] : process.env[env];
    if (value === undefined || value === '') {
      if (fallback === undefined) {
        throw new Error(`missing --${name} (or ${env})`);
      }
      return fallback;
    }
    return value;
  };
  return get;
}

function emit(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function kafkaClient(bootstrap) {
  return new Kafka({
    clientId: 'flywheel-kafkajs-interop',
    brokers: bootstrap.split(',').map((b) => b.trim()).filter((b) => b.length > 0),
    logLevel: logLevel.WARN,
    retry: { retries: 5 },
    logCreator: () => ({ level, log }) =>
      process.stderr.write(`kafkajs ${level} ${log.message} ${JSON.stringify(log)}\n`),
  });
}

async function produce(get, registry) {
  const topic = get('topic');
  const schema = fs.readFileSync(get('schema-file'), 'utf8');
  const subject = get('subject', '');
  const records = fs.readFileSync(get('records-file'), 'utf8')
    .split('\n').filter((line) => line.trim().length > 0).map((line) => JSON.parse(line));
  const expected = get('count', String(records.length));
  if (Number(expected) !== records.length) {
    throw new Error(`--count=${expected} but ${records.length} records in the file`);
  }

  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema },
    subject ? { subject } : undefined);
  emit({ event: 'registered', id, subject: subject || null });

  const encoded = [];
  for (const record of records) {
    encoded.push(await registry.encode(id, record));
  }

  const compressionName = get('compression', 'none');
  const compression = { none: CompressionTypes.None, lz4: CompressionTypes.LZ4 }[compressionName];
  if (compression === undefined) {
    throw new Error(`unknown --compression=${compressionName}: none or lz4`);
  }
  const producer = kafkaClient(get('bootstrap')).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // One send per record so the offsets map back to the input order.
    for (let i = 0; i < encoded.length; i++) {
      const key = records[i].event_id !== undefined ? String(records[i].event_id) : null;
      const [meta] = await producer.send({
        topic,
        acks: -1,
        compression,
        messages: [{ key, value: encoded[i] }],
      });
      emit({
        event: 'produced', index: i, partition: meta.partition,
        offset: meta.baseOffset, hex: encoded[i].toString('hex'),
      });
    }
  } finally {
    await producer.disconnect();
  }
  emit({ event: 'done', count: encoded.length });
}

async function consume(get, registry) {
  const topic = get('topic');
  const count = Number(get('count'));
  const timeoutMs = Number(get('timeout-ms', '45000'));
  const consumer = kafkaClient(get('bootstrap')).consumer({
    groupId: `flywheel-kafkajs-interop-${topic}-${process.pid}-${Date.now()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
    retry: { restartOnFailure: async () => false },
  });
  await consumer.connect();
  let seen = 0;
  let failure = null;
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const finished = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms with ${seen} of ${count} records`)),
        timeoutMs);
      // A batch kafkajs cannot decode (an lz4 batch without a codec) crashes the consumer
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clearTimeout(timer);
        reject(payload.error);
      });
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (seen >= count) {
            return;
          }
          try {
            const buffer = message.value;
            const schemaId = buffer.length >= 5 && buffer[0] === 0 ? buffer.readInt32BE(1) : null;
            const value = await registry.decode(buffer);
            const reencoded = await registry.encode(schemaId, value);
            seen++;
            emit({
              event: 'consumed', partition, offset: message.offset,
              key: message.key === null ? null : message.key.toString('utf8'),
              schemaId, hex: buffer.toString('hex'), value,
              reencodedHex: reencoded.toString('hex'),
            });
          } catch (error) {
            failure = error;
            clearTimeout(timer);
            reject(error);
            return;
          }
          if (seen >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch((error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    await finished;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  if (failure) {
    throw failure;
  }
  emit({ event: 'done', count: seen });
}

async function main() {
  const get = options();
  const codec = get('lz4-codec', 'lz4-napi');
  if (codec === 'lz4-napi') {
    CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
  } else if (codec !== 'none') {
    throw new Error(`unknown --lz4-codec=${codec}: lz4-napi or none`);
  }
  const registry = new SchemaRegistry({ host: get('registry') });
  const mode = get('mode');
  if (mode === 'produce') {
    await produce(get, registry);
  } else if (mode === 'consume') {
    await consume(get, registry);
  } else {
    throw new Error(`unknown --mode=${mode}: produce or consume`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`interop failed: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  });
