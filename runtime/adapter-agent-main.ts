/**
 * Entry point of a validator or inference-node process of the adapter register's runtime, started by
 * the deployment launcher (adapter-deployment.ts) with an IPC channel:
 * `node dist/runtime/adapter-agent-main.js '<AgentSpec as JSON>'`. It says `ready`, starts polling on
 * `go`, sends an `event` for each verdict, swap or refusal, answers `report`, and exits on `stop`,
 * SIGTERM or when its launcher goes away.
 */
import { InferenceNode, Validator, type AgentEvent, type AgentSpec, type InferenceReport, type ValidatorReport } from './adapter-agents.js';
import { exitWithParent } from './ipc.js';

/** Launcher → agent. */
export type ToAgent = { readonly t: 'go' } | { readonly t: 'report' } | { readonly t: 'stop' };

/** Agent → launcher. */
export type FromAgent =
  | { readonly t: 'ready' }
  | { readonly t: 'event'; readonly event: AgentEvent }
  | { readonly t: 'report'; readonly report: ValidatorReport | InferenceReport }
  | { readonly t: 'error'; readonly message: string };

const spec = JSON.parse(process.argv[2] ?? 'null') as AgentSpec | null;
if (spec === null || process.send === undefined) {
  process.stderr.write('adapter-agent-main: runs under the deployment launcher, with the agent spec as the first argument (JSON)\n');
  process.exit(2);
}
const name = `${spec.role === 'validator' ? 'validator' : 'inference'} ${spec.id}`;
const log = (line: string) => process.stderr.write(`[${name}] ${line}\n`);
const send = (message: FromAgent) => process.send?.(message);
const emit = (event: AgentEvent) => send({ t: 'event', event });
const agent = spec.role === 'validator' ? new Validator(spec, log, emit) : new InferenceNode(spec, log, emit);

exitWithParent(() => agent.stop());
process.on('uncaughtException', (error) => {
  log(`fatal: ${error.stack ?? error.message}`);
  send({ t: 'error', message: error.message });
  process.exit(1);
});
process.on('message', (raw) => {
  const message = raw as ToAgent;
  if (message.t === 'go') agent.start();
  else if (message.t === 'report') send({ t: 'report', report: agent.report() });
  else if (message.t === 'stop') void agent.stop().then(() => process.exit(0));
});
send({ t: 'ready' });
