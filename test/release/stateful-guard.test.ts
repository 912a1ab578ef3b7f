import { decide, parseOverride, ResourceChangeSummary } from '../../lib/release/stateful-guard';

const STACK = 'NotesStack-prod';
const table = (over: Partial<ResourceChangeSummary>): ResourceChangeSummary => ({
  action: 'Modify',
  logicalResourceId: 'NotesTable1234',
  physicalResourceId: 'NotesStack-prod-NotesTable1234-ABC',
  resourceType: 'AWS::DynamoDB::Table',
  replacement: 'False',
  ...over,
});

describe('stateful-change guard decision', () => {
  test('passes a release that only modifies a table in place and replaces a function', () => {
    const changes = [table({}), { action: 'Modify', logicalResourceId: 'Fn', resourceType: 'AWS::Lambda::Function', replacement: 'True' }];

    const d = decide(changes, false, STACK);

    expect(d.allowed).toBe(true);
    expect(d.findings).toEqual([]);
    expect(d.message).toContain('passed');
  });

  test('blocks a table replacement and names the table and the override variable', () => {
    const d = decide([table({ replacement: 'True' })], false, STACK);

    expect(d.allowed).toBe(false);
    expect(d.message).toContain('stateful-change guard: blocked');
    expect(d.message).toContain('AWS::DynamoDB::Table NotesTable1234 (NotesStack-prod-NotesTable1234-ABC) would be replaced');
    expect(d.message).toContain('ALLOW_STATEFUL_CHANGE=true');
  });

  test('blocks a conditional replacement of a user pool', () => {
    const d = decide([{ action: 'Modify', logicalResourceId: 'UserPool', resourceType: 'AWS::Cognito::UserPool', replacement: 'Conditional' }], false, STACK);

    expect(d.allowed).toBe(false);
    expect(d.findings).toEqual([expect.objectContaining({ effect: 'MAY REPLACE', logicalResourceId: 'UserPool' })]);
  });

  test('blocks removing a global table even when its deletion policy retains it', () => {
    const d = decide([{ action: 'Remove', logicalResourceId: 'Global', resourceType: 'AWS::DynamoDB::GlobalTable', policyAction: 'Retain' }], false, STACK);

    expect(d.allowed).toBe(false);
    expect(d.message).toContain('would be removed from the stack, deletion policy action Retain');
  });

  test('lets the same change through with the override and still lists it', () => {
    const d = decide([table({ action: 'Remove' })], true, STACK);

    expect(d.allowed).toBe(true);
    expect(d.message).toContain('OVERRIDDEN by ALLOW_STATEFUL_CHANGE=true');
    expect(d.message).toContain('NotesTable1234');
  });

  test('only the exact word true overrides', () => {
    expect(parseOverride('true')).toBe(true);
    expect(parseOverride(' TRUE ')).toBe(true);
    expect(parseOverride('false')).toBe(false);
    expect(parseOverride('yes')).toBe(false);
    expect(parseOverride('')).toBe(false);
    expect(parseOverride(undefined)).toBe(false);
  });
});
