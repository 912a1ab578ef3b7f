/**
 * Where a role's credentials can lead: the roles it may become, one hop at a time, as the
 * simulator answers.
 * - `sts:AssumeRole`: its identity policy allows it and the role's trust policy lets it in.
 * - `iam:PassRole` to a role an AWS service assumes (the CloudFormation execution role, a
 *   function's role): the service then acts as that role on the caller's behalf. Counted as
 *   reaching the role, which over-approximates (the caller also needs the service's own action,
 *   e.g. cloudformation:ExecuteChangeSet): a hop found here is a path to check, not yet an exploit.
 * - `codebuild:StartBuild` on a project: a build may override its buildspec, so it runs any
 *   command as the project's service role.
 * - `lambda:UpdateFunctionCode` on a function: the new code runs as the function's role.
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

/** The projects and functions of the world, with the role each runs as. */
function runners(world: IamWorld): { action: string; resource: string; role: Principal }[] {
  const out: { action: string; resource: string; role: Principal }[] = [];
  for (const s of world.stacks) {
    for (const id of s.ofType('AWS::CodeBuild::Project')) {
      const role = world.roleByArn(String(s.props(id).ServiceRole));
      if (role) out.push({ action: 'codebuild:StartBuild', resource: s.getAtt(id, 'Arn'), role });
    }
    for (const id of s.ofType('AWS::Lambda::Function')) {
      if (!s.resources[id].Properties?.Role) continue;
      const role = world.roleByArn(String(s.props(id).Role));
      if (role) out.push({ action: 'lambda:UpdateFunctionCode', resource: s.getAtt(id, 'Arn'), role });
    }
  }
  return out;
}

export interface ReachOptions {
  /** Ends a path at a role (its own reach is not followed), for roles whose reach is proven elsewhere. */
  readonly stop?: (p: Principal) => boolean;
  /** Stops the search at the first role found that this accepts (that path is enough). */
  readonly until?: (p: Principal) => boolean;
}

/** Every role reachable from `start`, with the shortest path to it (breadth first). */
export async function reachableFrom(world: IamWorld, start: Principal, options: ReachOptions = {}): Promise<Path[]> {
  const { stop = () => false, until } = options;
  const roles = world.allRoles();
  const trust = new Map(roles.map((r) => [r.arn, trustOf(world, r)]));
  const proxies = runners(world);
  const seen = new Map<string, Path>([[start.arn, { to: start, hops: [] }]]);
  const queue: Path[] = [{ to: start, hops: [] }];
  const result = () => [...seen.values()].filter((p) => p.to !== start);
  const allowed = async (principal: Principal, action: string, resource: string, context?: Record<string, string>) =>
    (await world.simulate({ principal, action, resource, context })).decision === 'Allowed';
  while (queue.length) {
    const from = queue.shift()!;
    if (from.to !== start && stop(from.to)) continue;
    const found: Path[] = [];
    for (const target of roles) {
      if (seen.has(target.arn)) continue;
      const t = trust.get(target.arn)!;
      let hop: string | undefined;
      if (t.aws && (await allowed(from.to, 'sts:AssumeRole', target.arn))) hop = `sts:AssumeRole ${target.name}`;
      for (const service of t.services) {
        if (hop) break;
        if (await allowed(from.to, 'iam:PassRole', target.arn, { 'iam:PassedToService': service })) hop = `iam:PassRole ${target.name} to ${service}`;
      }
      if (hop) found.push({ to: target, hops: [...from.hops, hop] });
    }
    for (const proxy of proxies) {
      if (seen.has(proxy.role.arn) || found.some((f) => f.to.arn === proxy.role.arn)) continue;
      if (await allowed(from.to, proxy.action, proxy.resource)) found.push({ to: proxy.role, hops: [...from.hops, `${proxy.action} ${proxy.resource.split(/[:/]/).pop()} (runs as ${proxy.role.name})`] });
    }
    for (const path of found) {
      seen.set(path.to.arn, path);
      queue.push(path);
      if (until?.(path.to)) return result();
    }
  }
  return result();
}
