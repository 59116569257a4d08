/**
 * A RabbitMQ node of a test's own, so a test can SIGKILL the broker and restart it without touching the
 * machine's shared node on 5672: Debian's `rabbitmq-server` (RabbitMQ 3.10, Erlang/OTP 25) started with
 * its own node name, ports, data, logs, Erlang cookie and no plugins, all in a scratch directory. It
 * registers with the machine's epmd (4369) as any node does; if none runs, Erlang starts one, which
 * outlives the test (epmd is shared by every node on the machine, so that is harmless).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, writeFileSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import { sleep } from '../helpers/wait.ts';
import { freePort, scratchDirectory } from './processes.ts';

/** Debian's start script (a link to the versioned one); TEST_RABBITMQ_SERVER names another. */
const serverScript = process.env.TEST_RABBITMQ_SERVER ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** A first boot creates the node's database and enables every feature flag: on a loaded machine, well over 15 s. */
const bootTimeoutMs = 90_000;

export interface RabbitNode {
  /** guest/guest on the node's port: RabbitMQ creates that user on a node's first boot. */
  url: string;
  /** SIGKILLs the node's whole process tree (the start script and beam.smp) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same data, name and ports; resolves once it accepts an AMQP connection. */
  start(): Promise<void>;
  /** Shuts it down cleanly (SIGTERM: RabbitMQ stops as `rabbitmqctl stop` does) and waits until it is gone. */
  stop(): Promise<void>;
  /** Whether it was started and not killed since. */
  running(): boolean;
  /** Kills it and deletes its directory. Safe to call again. */
  remove(): Promise<void>;
}

export async function startRabbitNode(label: string): Promise<RabbitNode> {
  if (!existsSync(serverScript))
    throw new Error(
      `${serverScript} not found: these tests start a RabbitMQ node of their own (apt-get install rabbitmq-server, or set TEST_RABBITMQ_SERVER)`,
    );
  const directory = await scratchDirectory();
  const dir = directory.path;
  const [port, distributionPort] = [await freePort(), await freePort()];
  const name = `inventory-${label}-${process.pid}-${port}@localhost`;
  await Promise.all(['home', 'mnesia', 'log'].map((sub) => mkdir(join(dir, sub))));
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  // An env file of its own, so /etc/rabbitmq/rabbitmq-env.conf (the shared node's name) does not apply.
  await writeFile(join(dir, 'rabbitmq-env.conf'), '');
  await writeFile(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
  const url = `amqp://guest:guest@127.0.0.1:${port}`;
  const outputFile = join(dir, 'output.log');

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const output = () => readFileSync(outputFile, 'utf8').slice(-3000);
  // Should the test process die without its cleanup, the node dies with it.
  const killOnExit = () => child?.pid && signalGroup(child.pid);
  process.once('exit', killOnExit);

  /** Signals the whole process group, then waits until nothing of it is left (beam.smp is not ours to wait for). */
  async function end(signal: 'SIGKILL' | 'SIGTERM', timeoutMs: number): Promise<void> {
    const running = child;
    if (!running?.pid) return;
    signalGroup(running.pid, signal);
    const deadline = Date.now() + timeoutMs;
    while (groupAlive(running.pid) && Date.now() < deadline) await sleep(50);
    if (groupAlive(running.pid)) signalGroup(running.pid, 'SIGKILL');
    await exited;
    child = undefined;
  }
  const kill = () => end('SIGKILL', 10_000);

  async function start(): Promise<void> {
    const log = openSync(outputFile, 'a');
    // Detached: its own process group, so a kill reaches the script and the beam.smp it runs.
    const started = spawn(realpathSync(serverScript), [], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        PATH: process.env.PATH,
        HOME: join(dir, 'home'),
        RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
        RABBITMQ_NODENAME: name,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(distributionPort),
        RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
        RABBITMQ_LOG_BASE: join(dir, 'log'),
        RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
        ERL_EPMD_ADDRESS: '127.0.0.1',
      },
    });
    closeSync(log);
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    let gone = false;
    void exited.then(() => (gone = true));
    // A script that cannot be run at all: no 'exit' follows.
    started.once('error', (error) => {
      gone = true;
      writeFileSync(outputFile, `${String(error)}\n`, { flag: 'a' });
    });
    const deadline = Date.now() + bootTimeoutMs;
    // The listener opens once the node has booted; an AMQP handshake proves it serves.
    for (;;) {
      if (gone) {
        await kill();
        throw new Error(`RabbitMQ node ${name} exited while booting:\n${output()}`);
      }
      try {
        const connection = await amqp.connect(url);
        await connection.close();
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          await kill();
          throw new Error(
            `RabbitMQ node ${name} did not accept AMQP within ${bootTimeoutMs} ms (${String(error)}):\n${output()}`,
          );
        }
        await sleep(200);
      }
    }
  }

  try {
    await start();
  } catch (error) {
    process.removeListener('exit', killOnExit);
    await directory.remove();
    throw error;
  }
  return {
    url,
    kill,
    stop: () => end('SIGTERM', 30_000),
    start,
    running: () => child !== undefined,
    async remove() {
      await kill();
      process.removeListener('exit', killOnExit);
      await directory.remove();
    },
  };
}

function signalGroup(pid: number, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
