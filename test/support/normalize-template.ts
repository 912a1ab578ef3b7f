/**
 * Makes a synthesized CloudFormation template stable for a snapshot: asset hashes (which change
 * with every edit of a Lambda's code or a dependency) become `[ASSET-HASH]`, so does the hash CDK
 * puts in a function version's logical id (`<fn>CurrentVersion<8 hex><32 hex of the function's
 * code and configuration>`, which follows the asset), and the CDK metadata resource and its
 * condition are dropped. Everything else stays, so a snapshot diff shows every
 * change to the infrastructure itself.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const VERSION_HASH = /(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function mask(value: Json): Json {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '[ASSET-HASH]').replace(VERSION_HASH, '$1[VERSION-HASH]');
  if (Array.isArray(value)) return value.map(mask);
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k.replace(ASSET_HASH, '[ASSET-HASH]').replace(VERSION_HASH, '$1[VERSION-HASH]')] = mask(v);
    return out;
  }
  return value;
}

export function normalizeTemplate(template: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(template)) as { [key: string]: Json };
  const resources = copy.Resources as { [key: string]: { Type?: string } } | undefined;
  if (resources) {
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type === 'AWS::CDK::Metadata') delete resources[id];
    }
  }
  const conditions = copy.Conditions as { [key: string]: Json } | undefined;
  if (conditions) {
    delete conditions.CDKMetadataAvailable;
    if (Object.keys(conditions).length === 0) delete copy.Conditions;
  }
  return mask(copy) as Record<string, unknown>;
}
