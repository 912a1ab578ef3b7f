/** Small readers over a synthesized template, for facts `Template` matchers cannot express directly. */
import { Template } from 'aws-cdk-lib/assertions';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Resource = { Type: string; Properties: { [key: string]: Json }; DeletionPolicy?: string; UpdateReplacePolicy?: string };
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

export function resources(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

export function onlyResource(template: Template, type: string): [string, Resource] {
  const found = Object.entries(resources(template, type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

export function actionsOf(statement: Statement): string[] {
  return (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).slice().sort();
}

/** The statements of one AWS::IAM::Policy resource. */
export function statementsOf(policy: Resource): Statement[] {
  return (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement;
}

/** The statements of every AWS::IAM::Policy attached to the role with this logical id. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(resources(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap(statementsOf);
}

/** Logical id of the role a Lambda function runs as. */
export function roleOfFunction(fn: Resource): string {
  const role = fn.Properties.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

export function functionNamed(template: Template, name: string): [string, Resource] {
  const found = Object.entries(resources(template, 'AWS::Lambda::Function')).filter(([, f]) => f.Properties.FunctionName === name);
  if (found.length !== 1) throw new Error(`expected one function named ${name}, found ${found.length}`);
  return found[0];
}

/** Maps each AWS::ApiGateway::Resource logical id to its full path (`/notes/{id}`); the root is `/`. */
export function apiResourcePaths(template: Template): Map<string, string> {
  const all = resources(template, 'AWS::ApiGateway::Resource');
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known) return known;
    const r = all[id];
    const parent = r.Properties.ParentId as { Ref?: string };
    const parentPath = parent.Ref ? pathOf(parent.Ref) : '';
    const path = `${parentPath}/${String(r.Properties.PathPart)}`;
    paths.set(id, path);
    return path;
  };
  for (const id of Object.keys(all)) pathOf(id);
  return paths;
}

export interface ApiMethod {
  path: string;
  httpMethod: string;
  authorizationType: string;
  authorizerId?: Json;
}

export function apiMethods(template: Template): ApiMethod[] {
  const paths = apiResourcePaths(template);
  return Object.values(resources(template, 'AWS::ApiGateway::Method')).map((m) => {
    const resourceId = m.Properties.ResourceId as { Ref?: string };
    return {
      path: resourceId.Ref ? paths.get(resourceId.Ref) ?? '?' : '/',
      httpMethod: String(m.Properties.HttpMethod),
      authorizationType: String(m.Properties.AuthorizationType ?? 'NONE'),
      authorizerId: m.Properties.AuthorizerId,
    };
  });
}
