import { OperationField } from '../catalog/catalog-types';
import { contractFor, operationInputIssues } from './operation-input';

const field = (key: string, type: OperationField['type'], required = false): OperationField => ({ key, type, required });
const contract = {
  inputFields: [
    field('symbol', 'string', true),
    field('count', 'integer'),
    field('ratio', 'number'),
    field('flag', 'boolean'),
    field('opts', 'object'),
    field('list', 'array'),
  ],
};

describe('operation input (§7.5.2 step 8)', () => {
  it('accepts present fields of the contract types and extra keys', () => {
    expect(operationInputIssues(contract, { symbol: 'BTC', count: 2, ratio: 0.5, flag: false, opts: {}, list: [], extra: 1 })).toEqual([]);
  });

  it('requires required fields, present and not null', () => {
    expect(operationInputIssues(contract, {})).toEqual([{ location: 'body', path: '/input/symbol', message: 'input.symbol is required' }]);
    expect(operationInputIssues(contract, { symbol: null })).toHaveLength(1);
  });

  it('allows null for optional fields', () => {
    expect(operationInputIssues(contract, { symbol: 'x', count: null })).toEqual([]);
  });

  it('checks types: integer has no fractional part; object is not an array; one issue per field in contract order', () => {
    const issues = operationInputIssues(contract, { symbol: 1, count: 1.5, ratio: '1', flag: 'yes', opts: [], list: {} });
    expect(issues.map((i) => i.path)).toEqual([
      '/input/symbol',
      '/input/count',
      '/input/ratio',
      '/input/flag',
      '/input/opts',
      '/input/list',
    ]);
  });

  it('escapes keys as JSON pointers', () => {
    expect(operationInputIssues({ inputFields: [field('a/b~c', 'string', true)] }, {})[0].path).toBe('/input/a~1b~0c');
  });

  it('has nothing to check without a contract', () => {
    expect(operationInputIssues(null, { anything: 1 })).toEqual([]);
    expect(contractFor(undefined, 'x')).toBeNull();
  });
});
