/** Rebuilds modules from their config() (used when loading a saved model). */
import { Module, type ModuleConfig } from './module.js';
import { Linear, type Init } from './linear.js';
import { LogSoftmax, ReLU, Sigmoid, Sign, Softmax, Tanh } from './activations.js';
import { Sequential } from './sequential.js';

type Factory = (c: ModuleConfig) => Module;

const factories = new Map<string, Factory>([
  ['Linear', (c) => new Linear(num(c, 'inFeatures'), num(c, 'outFeatures'), { bias: c.bias !== false, init: (c.init as Init) ?? 'glorot' })],
  ['ReLU', () => new ReLU()],
  ['Sigmoid', () => new Sigmoid()],
  ['Tanh', () => new Tanh()],
  ['Sign', () => new Sign()],
  ['Softmax', () => new Softmax()],
  ['LogSoftmax', () => new LogSoftmax()],
  ['Sequential', (c) => {
    if (!Array.isArray(c.layers)) throw new Error('fathom.fromConfig: Sequential config needs a layers array');
    return new Sequential(...(c.layers as ModuleConfig[]).map(fromConfig));
  }],
]);

function num(c: ModuleConfig, key: string): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`fathom.fromConfig: ${c.type}.${key} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Makes a custom module type loadable by name. */
export function registerModuleType(type: string, factory: Factory): void {
  factories.set(type, factory);
}

export function fromConfig(c: ModuleConfig): Module {
  if (!c || typeof c !== 'object' || typeof c.type !== 'string') {
    throw new Error(`fathom.fromConfig: expected {type: string, ...}, got ${JSON.stringify(c)}`);
  }
  const f = factories.get(c.type);
  if (!f) throw new Error(`fathom.fromConfig: unknown module type '${c.type}' (register it with nn.registerModuleType)`);
  return f(c);
}
