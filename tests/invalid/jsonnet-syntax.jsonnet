// A missing comma between two fields.
local severity(name, response, escalation) = {
  name: name,
  response_time: response,
  escalation_after: escalation,
  channels: [],
};
{
  version: 1,
  organization: { name: 'Mini' }
  severities: { P1: severity('High', '15m', '1h') },
  services: { api: { name: 'API', kind: 'http-api' } },
}
