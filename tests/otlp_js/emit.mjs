// What Claude Code and Gemini CLI send, through the OpenTelemetry JS OTLP/HTTP exporters
// (the packages those agents bundle). Used by tests/test_otlp_js_exporters.py.
//
//   node emit.mjs <base url> <json|protobuf> <gzip|none> [bearer token]
//
// Sends 4 log records (3 Claude Code events + 1 CloudTrail line as an OTel Collector
// filelog receiver forwards it), 5 metric data points (Claude Code's; active_time carries
// no audit meaning) and 4 spans (Claude Code tool + decision, a Gemini CLI GenAI
// execute_tool span, an HTTP server span). Prints one JSON line: the exporters' warnings
// (partial success) and errors, as captured from their diagnostic logger.
import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { TracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TracesJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';

const [base, protocol, compression, token] = process.argv.slice(2);
const captured = { warn: [], error: [] };
diag.setLogger(
  {
    error: (...args) => captured.error.push(args.map(String).join(' ')),
    warn: (...args) => captured.warn.push(args.map(String).join(' ')),
    info: () => {},
    debug: () => {},
    verbose: () => {},
  },
  DiagLogLevel.WARN,
);

const classes = {
  json: { logs: LogsJson, metrics: MetricsJson, traces: TracesJson },
  protobuf: { logs: LogsProto, metrics: MetricsProto, traces: TracesProto },
}[protocol];
const exporter = (signal) =>
  new classes[signal]({
    url: `${base}/v1/${signal}`,
    compression,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    timeoutMillis: 20000,
  });

const SESSION = '7a1b2c3d-0000-4000-8000-00000000js01';
const claude = resourceFromAttributes({ 'service.name': 'claude-code', 'service.version': '2.1.167' });
const common = { 'session.id': SESSION, 'user.email': 'dev@example.com', 'app.version': '2.1.167' };

async function logs() {
  const provider = new LoggerProvider({
    resource: claude,
    processors: [new SimpleLogRecordProcessor({ exporter: exporter('logs') })],
  });
  const logger = provider.getLogger('com.anthropic.claude_code.events', '2.1.167');
  logger.emit({
    body: 'claude_code.tool_decision',
    attributes: { ...common, 'event.name': 'tool_decision', 'event.sequence': 1,
      'event.timestamp': '2026-05-02T09:00:00.000Z', tool_name: 'Bash', tool_use_id: 'toolu_js1',
      decision: 'accept', source: 'config' },
  });
  logger.emit({
    body: 'claude_code.tool_result',
    attributes: { ...common, 'event.name': 'tool_result', 'event.sequence': 2,
      'event.timestamp': '2026-05-02T09:00:01.500Z', tool_name: 'Bash', tool_use_id: 'toolu_js1',
      success: 'true', duration_ms: '851',
      tool_parameters: JSON.stringify({ bash_command: 'terraform',
        full_command: 'terraform destroy -auto-approve -target=aws_db_instance.prod' }) },
  });
  logger.emit({
    body: 'claude_code.api_request',
    attributes: { ...common, 'event.name': 'api_request', 'event.sequence': 3,
      model: 'claude-opus-4-6', cost_usd: 0.0123, input_tokens: 1200 },
  });
  await provider.shutdown();
  // a file line as the OTel Collector's filelog receiver forwards it: no collector reads it
  const filelog = new LoggerProvider({
    resource: resourceFromAttributes({}),
    processors: [new SimpleLogRecordProcessor({ exporter: exporter('logs') })],
  });
  filelog.getLogger('filelog').emit({
    body: JSON.stringify({ eventVersion: '1.08', eventSource: 'rds.amazonaws.com',
      eventName: 'DeleteDBInstance', awsRegion: 'us-east-1', eventTime: '2026-05-02T09:00:02Z',
      requestParameters: { dBInstanceIdentifier: 'prod-db', skipFinalSnapshot: true } }),
    attributes: { 'log.file.name': 'cloudtrail-events.jsonl' },
  });
  await filelog.shutdown();
}

async function metrics() {
  const reader = new PeriodicExportingMetricReader({
    exporter: exporter('metrics'),
    exportIntervalMillis: 3600000,
  });
  const provider = new MeterProvider({ resource: claude, readers: [reader] });
  const meter = provider.getMeter('com.anthropic.claude_code', '2.1.167');
  const session = { 'session.id': SESSION, 'user.email': 'dev@example.com' };
  const tokens = meter.createCounter('claude_code.token.usage', { unit: 'tokens' });
  tokens.add(1200, { ...session, type: 'input', model: 'claude-opus-4-6' });
  tokens.add(340, { ...session, type: 'output', model: 'claude-opus-4-6' });
  meter.createCounter('claude_code.cost.usage', { unit: 'USD' })
    .add(0.0123, { ...session, model: 'claude-opus-4-6' });
  meter.createCounter('claude_code.code_edit_tool.decision')
    .add(1, { ...session, tool_name: 'Write', decision: 'reject', source: 'user_reject' });
  meter.createCounter('claude_code.active_time.total', { unit: 's' })
    .add(12.5, { ...session, type: 'cli' });
  await provider.shutdown();
}

async function traces() {
  const provider = new TracerProvider({
    resource: claude,
    spanProcessors: [new SimpleSpanProcessor({ exporter: exporter('traces') })],
  });
  const tracer = provider.getTracer('com.anthropic.claude_code.tracing', '2.1.167');
  const tool = tracer.startSpan('claude_code.tool', { attributes: { 'session.id': SESSION,
    tool_name: 'Bash', tool_use_id: 'toolu_js_span1',
    full_command: 'terraform destroy -auto-approve -target=aws_db_instance.prod' } });
  const decision = tracer.startSpan('claude_code.tool.blocked_on_user',
    { attributes: { decision: 'accept', source: 'config' } }, trace.setSpan(context.active(), tool));
  decision.end();
  tool.end();
  await provider.shutdown();
  const gemini = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'gemini-cli' }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: exporter('traces') })],
  });
  const other = gemini.getTracer('gemini-cli');
  const call = other.startSpan('execute_tool run_shell_command', { attributes: {
    'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'run_shell_command',
    'gen_ai.tool.call.id': 'call_js_1', 'gen_ai.conversation.id': 'gemini-js-session',
    'gen_ai.tool.call.arguments': JSON.stringify({ command: 'gcloud sql instances delete prod-db --quiet' }) } });
  call.end();
  other.startSpan('GET /healthz', { attributes: { 'http.request.method': 'GET' } }).end();
  await gemini.shutdown();
}

await logs();
await metrics();
await traces();
process.stdout.write(JSON.stringify(captured) + '\n');
