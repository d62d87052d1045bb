// An import that reaches outside the spec folder.
local stolen = importstr '../../specs/minimal.yaml';
{
  version: 1,
  organization: { name: 'Mini', labels: { note: stolen } },
  severities: { P1: { name: 'High', response_time: '15m', escalation_after: '1h', channels: [] } },
  services: { api: { name: 'API', kind: 'http-api' } },
}
