/**
 * Where a role's credentials can lead: the roles it may become, one hop at a time, as the
 * simulator answers.
 * - `sts:AssumeRole`: its identity policy allows it and the role's trust policy lets it in.
 * - `iam:PassRole` to a role an AWS service assumes (the CloudFormation execution role, a
 *   function's role): the service then acts as that role on the caller's behalf. Counted as
 *   reaching the role, which over-approximates (the caller also needs the service's own action,
 *   e.g. cloudformation:ExecuteChangeSet): a hop found here is a path to check, not yet an exploit.
 * Roles are the world's (every template, every bootstrap stack); a role no template defines is not
 * followed.
 */
import { Json } from './cfn';
import { IamWorld, Principal } from './world';

export interface Path {
  /** Where the path ends. */
  readonly to: Principal;
  /** Each hop, e.g. `sts:AssumeRole cdk-hnb659fds-deploy-role-...`. */
  readonly hops: string[];
}

type Statement = { Effect?: string; Principal?: Json; Action?: Json };

function trustOf(world: IamWorld, role: Principal): { aws: boolean; services: string[] } {
  const doc = world.resourcePolicy('sts:AssumeRole', role.arn) as { Statement?: Statement[] } | undefined;
  let aws = false;
  const services: string[] = [];
  for (const st of doc?.Statement ?? []) {
    if (st.Effect !== 'Allow') continue;
    const p = st.Principal as { AWS?: Json; Service?: Json } | string | undefined;
    if (p === '*' || (typeof p === 'object' && p?.AWS !== undefined)) aws = true;
    if (typeof p === 'object' && p?.Service !== undefined) services.push(...[p.Service].flat().map(String));
  }
  return { aws, services };
}

/**
 * Every role reachable from `start`, with the shortest path to it. `stop` ends a path at a role
 * (its own reach is not followed), for roles whose reach is proven elsewhere.
 */
export async function reachableFrom(world: IamWorld, start: Principal, stop: (p: Principal) => boolean = () => false): Promise<Path[]> {
  const roles = world.allRoles();
  const trust = new Map(roles.map((r) => [r.arn, trustOf(world, r)]));
  const seen = new Map<string, Path>([[start.arn, { to: start, hops: [] }]]);
  const queue: Path[] = [{ to: start, hops: [] }];
  while (queue.length) {
    const from = queue.shift()!;
    if (from.to !== start && stop(from.to)) continue;
    for (const target of roles) {
      if (seen.has(target.arn)) continue;
      const t = trust.get(target.arn)!;
      let hop: string | undefined;
      if (t.aws && (await world.simulate({ principal: from.to, action: 'sts:AssumeRole', resource: target.arn })).decision === 'Allowed') hop = `sts:AssumeRole ${target.name}`;
      for (const service of t.services) {
        if (hop) break;
        const outcome = await world.simulate({ principal: from.to, action: 'iam:PassRole', resource: target.arn, context: { 'iam:PassedToService': service } });
        if (outcome.decision === 'Allowed') hop = `iam:PassRole ${target.name} to ${service}`;
      }
      if (!hop) continue;
      const path = { to: target, hops: [...from.hops, hop] };
      seen.set(target.arn, path);
      queue.push(path);
    }
  }
  return [...seen.values()].filter((p) => p.to !== start);
}
