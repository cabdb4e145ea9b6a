import { OPERATION_ANONYMOUS, OPERATION_OTHER, OPERATION_UNKNOWN, ServerMetrics, firstErrorCode } from '../metrics';

const op = (name?: string) => ({ name: name === undefined ? undefined : { value: name } });

describe('ServerMetrics', () => {
  test('operation names are kept up to the cap, then collapse; unknown and unnamed ones have labels of their own', () => {
    const m = new ServerMetrics(2);
    expect(m.operationLabel(undefined)).toBe(OPERATION_UNKNOWN);
    expect(m.operationLabel(op())).toBe(OPERATION_ANONYMOUS);
    expect(m.operationLabel(op('A'))).toBe('A');
    expect(m.operationLabel(op('L'.repeat(65)))).toBe(OPERATION_OTHER);
    expect(m.operationLabel(op('B'))).toBe('B');
    expect(m.operationLabel(op('C'))).toBe(OPERATION_OTHER);
    // Names kept stay kept.
    expect(m.operationLabel(op('A'))).toBe('A');
    expect(m.operationLabel(op('L'.repeat(64)))).toBe(OPERATION_OTHER);
  });

  test('outcomes are ok, a well-formed error code, or OTHER; types outside the three are unknown', async () => {
    const m = new ServerMetrics(10);
    m.answered('http', 'A', 'query', null, 0.002);
    m.answered('http', 'A', 'query', 'NOT_FOUND', 0.002);
    m.answered('ws', 'A', 'mutation', 'not a code {"x"}');
    m.answered('ws', 'A', 'bogus', 'FORBIDDEN');
    const text = await m.registry.metrics();
    expect(text).toContain('modelgraph_graphql_requests_total{transport="http",operation="A",type="query",outcome="ok"} 1');
    expect(text).toContain('modelgraph_graphql_requests_total{transport="http",operation="A",type="query",outcome="NOT_FOUND"} 1');
    expect(text).toContain('modelgraph_graphql_requests_total{transport="ws",operation="A",type="mutation",outcome="OTHER"} 1');
    expect(text).toContain('modelgraph_graphql_requests_total{transport="ws",operation="A",type="unknown",outcome="FORBIDDEN"} 1');
    // Latency is observed only when given (HTTP).
    expect(text).toContain('modelgraph_graphql_request_duration_seconds_count{operation="A",type="query"} 2');
    expect(text).not.toContain('modelgraph_graphql_request_duration_seconds_count{operation="A",type="mutation"}');
  });

  test('firstErrorCode reads the first error, and calls one without a code internal', () => {
    expect(firstErrorCode(undefined)).toBeNull();
    expect(firstErrorCode([])).toBeNull();
    expect(firstErrorCode([{ extensions: { code: 'CONFLICT' } }, { extensions: { code: 'NOT_FOUND' } }])).toBe('CONFLICT');
    expect(firstErrorCode([{}])).toBe('INTERNAL_SERVER_ERROR');
  });
});
