'use strict';
// JavaScript values to and from the contract's messages: asset keys, typed metadata,
// google.protobuf.Value/Struct, Timestamp, Duration and Error.

/** 'raw/orders' -> { path: ['raw', 'orders'] } */
const assetKey = (key) => ({ path: key.split('/') });

/** { path: ['raw', 'orders'] } -> 'raw/orders' */
const keyString = (message) => message.path.join('/');

/** The step that computes an asset: its key as an identifier, 'raw/orders' -> 'raw__orders'. */
const stepKey = (key) => key.split('/').join('__');

/** Metadata as the user wrote it ({ rows: 5 }) -> [MetadataEntry], in the user's order. */
function metadataEntries(metadata = {}) {
  return Object.entries(metadata).map(([label, value]) => ({ label, value: metadataValue(value) }));
}

function metadataValue(value) {
  if (value === null || value === undefined) return { null: 'NULL_VALUE' };
  if (value instanceof URL) return { url: value.href };
  if (value instanceof Date) return { timestamp: timestamp(value.getTime()) };
  switch (typeof value) {
    case 'string':
      return { text: value };
    case 'boolean':
      return { bool: value };
    case 'bigint':
      return { int: value.toString() };
    case 'number':
      return Number.isSafeInteger(value) ? { int: value } : { float: value };
    default:
      return { json: jsonValue(value) };
  }
}

/** Any JSON-able value -> google.protobuf.Value (structure, never a JSON string). */
function jsonValue(value) {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonValue) } };
  switch (typeof value) {
    case 'number':
      return { numberValue: value };
    case 'string':
      return { stringValue: value };
    case 'boolean':
      return { boolValue: value };
    default:
      return { structValue: { fields: mapValues(value, jsonValue) } };
  }
}

/** google.protobuf.Struct (as decoded with oneofs: true) -> a plain object. */
function structToObject(struct) {
  return struct ? mapValues(struct.fields, fromJsonValue) : {};
}

function fromJsonValue(value) {
  switch (value.kind) {
    case 'structValue':
      return structToObject(value.structValue);
    case 'listValue':
      return value.listValue.values.map(fromJsonValue);
    case 'nullValue':
    case undefined:
      return null;
    default:
      return value[value.kind];
  }
}

const mapValues = (object, fn) =>
  Object.fromEntries(Object.entries(object).map(([key, value]) => [key, fn(value)]));

/** Milliseconds since the epoch -> google.protobuf.Timestamp. */
const timestamp = (ms = Date.now()) => ({
  seconds: Math.floor(ms / 1000),
  nanos: (ms % 1000) * 1e6,
});

/** google.protobuf.Duration (seconds as a decimal string) -> milliseconds; 0 when unset. */
const durationMs = (duration) =>
  duration ? Number(duration.seconds) * 1000 + duration.nanos / 1e6 : 0;

/** A thrown value -> weir.v1.Error with its class, message, stack and cause. */
function errorMessage(error) {
  if (!(error instanceof Error)) return { message: String(error) || 'unknown error' };
  return {
    message: error.message || error.name,
    className: error.name,
    stack: error.stack ?? '',
    cause: error.cause === undefined ? null : errorMessage(error.cause),
  };
}

module.exports = {
  assetKey,
  keyString,
  stepKey,
  metadataEntries,
  structToObject,
  timestamp,
  durationMs,
  errorMessage,
};
