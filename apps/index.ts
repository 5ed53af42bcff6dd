/**
 * The application registry: the state machine an executor applies commands to, chosen by
 * `config.app` (core/config.ts validates the name). Executors call this instead of naming an
 * application, so every protocol replicates every application unchanged.
 */
import type { Config } from '../core/config.js';
import type { StateMachine } from '../core/state-machine.js';
import { AdapterRegisterApp } from './adapter-register/app.js';
import { KVStore } from './kv/store.js';

/** A fresh instance of the application `config.app` (the key-value store when absent). */
export function createApplication(config: Pick<Config, 'n' | 'app'>): StateMachine {
  switch (config.app ?? 'kv') {
    case 'kv':
      return new KVStore();
    case 'adapter-register':
      // The consensus group is the validation plane (docs/adapter-register.md, "Roles"): the n
      // processes are the validators, named by their process ids.
      return new AdapterRegisterApp({ validators: Array.from({ length: config.n }, (_, i) => String(i + 1)) });
  }
}
