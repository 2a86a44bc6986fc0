/**
 * Module: the base of every layer and model. A module owns named parameters
 * (tensors with requiresGrad) and named child modules; parameters(),
 * stateDict() and freezing walk that tree. train()/eval() switch modes for
 * layers that behave differently in training (dropout, later).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { FitOptions, History, EvaluateOptions, PredictOptions, EvalResult } from '../models/training.js';
import { fit, evaluate, predict } from '../models/training.js';

/** A serialisable description of a module: its type and constructor arguments. */
export interface ModuleConfig {
  type: string;
  [key: string]: unknown;
}

export abstract class Module {
  /** Whether the module is in training mode (see train()/eval()). */
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;
  /** The module's type and constructor arguments, for saving the architecture. */
  abstract config(): ModuleConfig;

  /** Same as forward(x). */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Every parameter of this module and its children, in registration order (shared ones once). */
  parameters(): Tensor[] {
    return [...new Set(this.namedParameters().map(([, t]) => t))];
  }

  /** [qualified name, parameter] pairs, e.g. ['0.weight', W]. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.params) out.push([prefix + n, t]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** The child modules, by name. */
  modules(): [string, Module][] {
    return [...this.children];
  }

  /** Name → tensor map of every parameter (shares storage with the module). */
  stateDict(): Record<string, Tensor> {
    const d: Record<string, Tensor> = Object.create(null);
    for (const [n, t] of this.namedParameters()) d[n] = t;
    return d;
  }

  /** Copies values from a state dict; names and shapes must match exactly. */
  loadStateDict(dict: Record<string, Tensor>): void {
    const mine = this.namedParameters();
    const names = new Set(mine.map(([n]) => n));
    const extra = Object.keys(dict).filter((n) => !names.has(n));
    if (extra.length) throw new Error(`fathom.loadStateDict: unexpected parameters: ${extra.join(', ')}`);
    for (const [n, t] of mine) {
      const src = dict[n];
      if (!src) throw new Error(`fathom.loadStateDict: missing parameter '${n}'`);
      if (!sameShape(src.shape, t.shape)) {
        throw new Error(`fathom.loadStateDict: parameter '${n}' has shape ${fmt(t.shape)}, the state dict has ${fmt(src.shape)}`);
      }
      (t.data as Float32Array).set(src.data);
    }
  }

  /** Training mode on (or off); applies to children. Returns this. */
  train(on = true): this {
    this.training = on;
    for (const m of this.children.values()) m.train(on);
    return this;
  }

  /** Inference mode: same as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Stops (or restarts) gradient flow into this module's parameters. */
  freeze(frozen = true): this {
    for (const t of this.parameters()) t.requiresGrad = !frozen;
    return this;
  }

  unfreeze(): this {
    return this.freeze(false);
  }

  /** Keras-style training loop; see FitOptions. */
  fit(x: Tensor, y: Tensor, opts: FitOptions): Promise<History> {
    return fit(this, x, y, opts);
  }

  /** Mean loss (and accuracy for classification) over a dataset, in inference mode. */
  evaluate(x: Tensor, y: Tensor, opts: EvaluateOptions = {}): Promise<EvalResult> {
    return evaluate(this, x, y, opts);
  }

  /** Batched forward pass in inference mode (no tape). */
  predict(x: Tensor, opts: PredictOptions = {}): Tensor {
    return predict(this, x, opts);
  }
}
