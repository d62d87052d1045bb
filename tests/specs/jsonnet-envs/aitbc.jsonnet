// One spec, two environments: `montool build tests/specs/jsonnet-envs --ext-str env=staging`
// (or env=production). Production pages through PagerDuty with the playbook's
// thresholds; staging only posts to its own Slack channel and tolerates more errors.
local env = std.extVar('env');
assert std.member(['staging', 'production'], env) : 'env must be staging or production, not ' + env;
local prod = env == 'production';

// What differs between the environments, in one place.
local settings = {
  production: {
    errorRate: { P1: '10%', P2: '5%' },
    latency: { P1: '1s', P2: '500ms' },
    pagingChannels: ['pagerduty', 'slack'],
    slackChannel: '#on-call-aitbc',
  },
  staging: {
    errorRate: { P1: '25%', P2: '10%' },
    latency: { P1: '2s', P2: '1s' },
    pagingChannels: ['slack'],
    slackChannel: '#aitbc-staging-alerts',
  },
}[env];

{
  version: 1,
  organization: {
    name: 'AITBC ' + env,
    timezone: 'UTC',
    team: 'sre',
    runbook_base_url: 'https://runbooks.' + (if prod then '' else 'staging.') + 'aitbc.io',
    dashboard_base_url: 'https://grafana.' + (if prod then '' else 'staging.') + 'aitbc.io',
    labels: { platform: 'aitbc', environment: env },
  },
  teams: { sre: { name: 'SRE Team' }, platform: { name: 'Platform Team' } },
  severities: {
    P1: { name: 'High', response_time: '15m', escalation_after: '1h', channels: settings.pagingChannels },
    P2: { name: 'Medium', response_time: '1h', escalation_after: '4h', channels: ['slack'] },
  },
  people: {
    alice: { name: 'Alice', email: 'alice@aitbc.io' },
    bob: { name: 'Bob', email: 'bob@aitbc.io' },
  },
  rotations: {
    'aitbc-oncall': {
      members: ['alice', 'bob'],
      handoff: { day: 'monday', time: '08:00' },
      start: '2024-12-23',
      tiers: { primary: { offset: 0 }, secondary: { offset: 1 } },
    },
  },
  escalation: { levels: [
    { target: { rotation: 'aitbc-oncall', tier: 'primary' } },
    { target: { rotation: 'aitbc-oncall', tier: 'secondary' } },
  ] },
  channels: {
    pagerduty: { type: 'pagerduty' },
    slack: { type: 'slack', channel: settings.slackChannel },
    // The Watchdog's heartbeat: each environment has its own dead man's switch.
    'deadmans-switch': { type: 'webhook', url: 'http://watchdog-receiver.monitoring.svc:8080/' + env },
  },
  slo_defaults: { page_severity: 'P1', ticket_severity: 'P2' },
  alert_rules: {
    'error-rate': {
      summary: 'The service answers too many requests with a server error.',
      signal: 'error_ratio', op: '>', levels: settings.errorRate, 'for': '5m', kinds: ['http-api'],
      runbook: 'errors',
    },
    'response-time': {
      summary: 'The service responds slowly at the 95th percentile.',
      signal: 'latency_p95', op: '>', levels: settings.latency, 'for': '5m', kinds: ['http-api'],
      runbook: 'errors',
    },
  },
  services: {
    'coordinator-api': {
      name: 'Coordinator API',
      kind: 'http-api',
      team: 'platform',
      selector: { job: 'coordinator-api', environment: env },
      histogram_buckets: [0.1, 0.2, 0.5, 1, 2],
      slos: { availability: { type: 'availability', objective: 99.9, window: '30d' } },
      runbooks: { errors: { title: 'High Error Rate', steps: ['Check pod health', 'Review logs'] } },
    },
  },
}
