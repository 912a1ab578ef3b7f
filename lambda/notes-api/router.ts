import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Reply } from './http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PublicRequest {
  event: APIGatewayProxyEvent;
  params: Readonly<Record<string, string>>;
  requestId: string;
}

export interface UserRequest extends PublicRequest {
  /** The caller's Cognito `sub`, from the authorizer context only. */
  userId: string;
}

/** One row of the route table: method + path template -> function. `{name}` matches one path segment. */
export type Route =
  | { method: HttpMethod; path: string; auth: 'none'; handle: (req: PublicRequest) => Promise<Reply> }
  | { method: HttpMethod; path: string; auth: 'user'; handle: (req: UserRequest) => Promise<Reply> };

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'wrong-method'; path: string; allowed: HttpMethod[] }
  | { kind: 'no-route' };

function segments(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not valid percent-encoding: keep as is, it will simply not be a valid id
  }
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const want = segments(template);
  const got = segments(path);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const name = /^\{(\w+)\}$/.exec(want[i])?.[1];
    if (name) params[name] = decodeSegment(got[i]);
    else if (want[i] !== got[i]) return undefined;
  }
  return params;
}

/**
 * The request path to route on. API Gateway's `resource` is the matched template when the API
 * declares our resources (immune to custom-domain base paths); with a `{proxy+}` resource or an
 * unfamiliar one, fall back to the proxy path or the raw path.
 */
function requestPath(event: APIGatewayProxyEvent, templates: ReadonlySet<string>): { template?: string; path: string } {
  const resource = typeof event.resource === 'string' ? event.resource : '';
  if (templates.has(resource)) return { template: resource, path: typeof event.path === 'string' ? event.path : resource };
  const proxy = event.pathParameters?.proxy;
  if (typeof proxy === 'string' && resource.endsWith('{proxy+}')) return { path: `/${proxy}` };
  return { path: typeof event.path === 'string' ? event.path : '/' };
}

export class Router {
  private readonly templates: ReadonlySet<string>;

  constructor(private readonly routes: readonly Route[]) {
    this.templates = new Set(routes.map((r) => r.path));
  }

  match(event: APIGatewayProxyEvent): RouteMatch {
    const method = typeof event.httpMethod === 'string' ? event.httpMethod.toUpperCase() : '';
    const { template, path } = requestPath(event, this.templates);
    const candidates: { route: Route; params: Record<string, string> }[] = [];
    for (const route of this.routes) {
      let params: Record<string, string> | undefined;
      if (template !== undefined) {
        if (route.path !== template) continue;
        params = {};
        for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (typeof v === 'string') params[k] = v;
      } else {
        params = matchTemplate(route.path, path);
      }
      if (params) candidates.push({ route, params });
    }
    if (candidates.length === 0) return { kind: 'no-route' };
    const hit = candidates.find((c) => c.route.method === method);
    if (hit) return { kind: 'found', ...hit };
    return { kind: 'wrong-method', path: candidates[0].route.path, allowed: candidates.map((c) => c.route.method) };
  }
}
