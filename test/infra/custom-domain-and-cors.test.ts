/**
 * Optional settings: a custom domain for the API, and several CORS origins. One app with the dev
 * environment given both.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildTestApp, repoConfig } from './fixture';

const DOMAIN = { domainName: 'api.notes.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' };
const ORIGINS = ['https://notes.example.com', 'https://beta.notes.example.com'];
let dev: Template;

beforeAll(() => {
  const config = repoConfig();
  const notes = {
    ...config,
    environments: config.environments.map((e) => (e.name === 'dev' ? { ...e, domain: DOMAIN, corsAllowOrigins: ORIGINS } : e)),
  };
  dev = buildTestApp({ notes }).template('dev');
});

test('a configured custom domain is a regional TLS 1.2 domain mapped to the API stage, with its DNS target as an output', () => {
  dev.hasResourceProperties('AWS::ApiGateway::DomainName', {
    DomainName: DOMAIN.domainName,
    RegionalCertificateArn: DOMAIN.certificateArn,
    EndpointConfiguration: { Types: ['REGIONAL'] },
    SecurityPolicy: 'TLS_1_2',
  });
  dev.resourceCountIs('AWS::ApiGateway::BasePathMapping', 1);
  const outputs = dev.toJSON().Outputs as Record<string, unknown>;
  expect(outputs).toHaveProperty('ApiCustomDomainUrl');
  expect(outputs).toHaveProperty('ApiCustomDomainTarget');
});

test('with several origins, the preflight allows only the listed ones; gateway error answers echo the request Origin', () => {
  // The preflight's mapping template echoes the Origin only when it is on the list.
  dev.hasResourceProperties('AWS::ApiGateway::Method', {
    HttpMethod: 'OPTIONS',
    Integration: Match.objectLike({
      IntegrationResponses: Match.arrayWith([
        Match.objectLike({
          ResponseTemplates: { 'application/json': Match.stringLikeRegexp(ORIGINS[1].replace(/\./g, '\\.')) },
        }),
      ]),
    }),
  });
  dev.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'DEFAULT_4XX',
    ResponseParameters: Match.objectLike({
      'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
      'gatewayresponse.header.Vary': "'Origin'",
    }),
  });
  dev.hasResourceProperties('AWS::Lambda::Function', {
    FunctionName: 'notes-dev-api',
    Environment: { Variables: Match.objectLike({ CORS_ALLOW_ORIGINS: ORIGINS.join(',') }) },
  });
});
