'use strict';
// The asset list as a weir.v1.DefinitionsSnapshot: the graph checked, assets in
// topological order, and a content hash that changes exactly when the snapshot does.

const crypto = require('node:crypto');
const { CodeLocationService } = require('./protos');
const { assetKey, metadataEntries, stepKey } = require('./wire');

class DefinitionError extends Error {
  name = 'DefinitionError';
}

/**
 * Check the assets and describe them as data.
 *
 *   const { snapshot, order } = buildSnapshot(assets);
 *   snapshot.contentHash; // 'sha256:3f1c…'
 *
 * `order` is the asset objects in dependency order (each after everything it reads).
 */
function buildSnapshot(assets) {
  const byKey = new Map();
  for (const asset of assets) {
    if (typeof asset.key !== 'string' || !asset.key) {
      throw new DefinitionError(`Every asset needs a key such as 'orders', got ${asset.key}`);
    }
    if (byKey.has(asset.key)) throw new DefinitionError(`Two assets have the key '${asset.key}'`);
    if (typeof asset.compute !== 'function') {
      throw new DefinitionError(`Asset '${asset.key}' needs a compute function`);
    }
    byKey.set(asset.key, asset);
  }
  const order = topologicalOrder(byKey);
  const snapshot = { contentHash: '', assets: order.map(assetNode) };
  snapshot.contentHash = contentHash(snapshot);
  return { snapshot, order };
}

function topologicalOrder(byKey) {
  const order = [];
  const state = new Map(); // key -> 'visiting' | 'done'
  const visit = (key, trail) => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(key)), key].join(' -> ');
      throw new DefinitionError(`Assets depend on each other in a cycle: ${cycle}`);
    }
    state.set(key, 'visiting');
    for (const dep of byKey.get(key).deps ?? []) {
      if (!byKey.has(dep)) {
        throw new DefinitionError(`Asset '${key}' depends on '${dep}', which no asset defines`);
      }
      visit(dep, [...trail, key]);
    }
    state.set(key, 'done');
    order.push(byKey.get(key));
  };
  for (const key of byKey.keys()) visit(key, []);
  return order;
}

function assetNode(asset) {
  const key = assetKey(asset.key);
  const nodeName = stepKey(asset.key);
  return {
    key,
    deps: (asset.deps ?? []).map((dep) => ({ assetKey: assetKey(dep) })),
    groupName: asset.group ?? 'default',
    description: asset.description ?? '',
    metadata: metadataEntries(asset.metadata),
    tags: sortedObject(asset.tags ?? {}), // map entries are written in insertion order
    owners: asset.owners ?? [],
    kinds: asset.kinds ?? [],
    isExecutable: true,
    nodeName,
    ...(asset.freshness ? { freshnessPolicy: freshnessPolicy(asset) } : {}),
    // Checks declared on an asset are evaluated by the asset's own step.
    checkSpecs: (asset.checks ?? []).map((check) => ({
      name: check.name,
      assetKey: key,
      description: check.description ?? '',
      blocking: Boolean(check.blocking),
      nodeName,
    })),
  };
}

// At least a minute, as the Python SDK requires: the freshness daemon evaluates no finer.
const MIN_WINDOW_SECONDS = 60;

/**
 * An asset's `freshness` as a weir.v1.FreshnessPolicy, checked at definition:
 *   { failWindowSeconds: 86400, warnWindowSeconds: 43200 }          a time window, or
 *   { deadlineCron: '0 9 * * *', lowerBoundDeltaSeconds: 3600, timezone: 'UTC' }
 */
function freshnessPolicy(asset) {
  const policy = asset.freshness;
  const where = `Asset '${asset.key}': freshness`;
  const seconds = (name, value) => {
    if (!Number.isInteger(value) || value < MIN_WINDOW_SECONDS) {
      throw new DefinitionError(`${where}.${name} must be whole seconds, at least 60; got ${value}`);
    }
    return { seconds: String(value), nanos: 0 };
  };
  if (policy.deadlineCron !== undefined) {
    const fields = String(policy.deadlineCron).trim().split(/\s+/);
    if (typeof policy.deadlineCron !== 'string' || fields.length !== 5) {
      throw new DefinitionError(`${where}.deadlineCron must be a cron string such as '0 9 * * *'`);
    }
    return {
      cron: {
        deadlineCron: policy.deadlineCron,
        lowerBoundDelta: seconds('lowerBoundDeltaSeconds', policy.lowerBoundDeltaSeconds),
        timezone: policy.timezone ?? 'UTC',
      },
    };
  }
  const window = { failWindow: seconds('failWindowSeconds', policy.failWindowSeconds) };
  if (policy.warnWindowSeconds !== undefined) {
    window.warnWindow = seconds('warnWindowSeconds', policy.warnWindowSeconds);
    if (policy.warnWindowSeconds >= policy.failWindowSeconds) {
      throw new DefinitionError(`${where}.warnWindowSeconds must be shorter than failWindowSeconds`);
    }
  }
  return { timeWindow: window };
}

const sortedObject = (object) => Object.fromEntries(Object.entries(object).sort());

// The recommended scheme hashes the snapshot's own bytes; any stable encoding will do, so
// this hashes the GetDefinitions reply with the hash left empty. protobufjs writes fields in
// a fixed order, and the snapshot is built in a fixed order, so equal definitions give
// equal bytes.
function contentHash(snapshot) {
  const bytes = CodeLocationService.GetDefinitions.responseSerialize({ definitions: snapshot });
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

/** The snapshot in parts for StreamDefinitions: the reader merges them in order. */
function* snapshotParts(snapshot, assetsPerPart = 1000) {
  const { assets, ...rest } = snapshot;
  yield { ...rest, assets: assets.slice(0, assetsPerPart) }; // content_hash goes first
  for (let start = assetsPerPart; start < assets.length; start += assetsPerPart) {
    yield { assets: assets.slice(start, start + assetsPerPart) };
  }
}

module.exports = { buildSnapshot, snapshotParts };
