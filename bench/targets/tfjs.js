/**
 * The TensorFlow.js side, shared by tfjs-cpu.js and tfjs-wasm.js: the same model as fathom's
 * (dense 256 relu, dense 256 relu, dense 10 logits), the same step (softmax cross-entropy from
 * logits, mean over the batch; tf.train.sgd / tf.train.adam through optimizer.minimize), the
 * same inference call (model.predict). Optional: absent packages make the target unavailable.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { MLP, CNN, cnnLayers } from '../cases.js';

const require = createRequire(import.meta.url);

/** Loads @tensorflow/tfjs once (null + reason when it is not installed). */
let loaded;
export async function loadTf() {
  if (loaded) return loaded;
  try {
    // tfjs-backend-cpu prints a one-time "install tfjs-node" banner in Node; keep stdout clean.
    const warn = console.warn;
    console.warn = (...a) => {
      if (!String(a[0]).includes('tfjs-node')) warn(...a);
    };
    const tf = await import('@tensorflow/tfjs');
    loaded = { tf, version: tf.version?.tfjs ?? tf.version_core ?? '?', error: null };
  } catch (e) {
    loaded = { tf: null, error: `not installed (@tensorflow/tfjs: ${String(e.message).split('\n')[0]})` };
  }
  return loaded;
}

/** Loads the wasm backend with its .wasm files read from node_modules (no network). */
let wasmLoaded;
export async function loadWasm() {
  if (wasmLoaded) return wasmLoaded;
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dir}/`); // a directory path: Node reads the files from disk
    wasmLoaded = { wasm, error: null };
  } catch (e) {
    wasmLoaded = { wasm: null, error: `not installed (@tensorflow/tfjs-backend-wasm: ${String(e.message).split('\n')[0]})` };
  }
  return wasmLoaded;
}

export function tfjsTarget(name, backendName, extraLoad) {
  let tf = null;
  const target = {
    name,
    unavailable: 'not loaded',
    maxThreads: 1,
    threads: () => 1,
    detail: '',
    async init() {
      const l = await loadTf();
      if (l.error) return (target.unavailable = l.error);
      if (extraLoad) {
        const e = await extraLoad();
        if (e) return (target.unavailable = e);
      }
      tf = l.tf;
      try {
        if (!(await tf.setBackend(backendName))) return (target.unavailable = `tf.setBackend('${backendName}') failed`);
        await tf.ready();
      } catch (e) {
        return (target.unavailable = `backend '${backendName}' failed: ${e.message}`);
      }
      target.unavailable = null;
      target.detail = `@tensorflow/tfjs ${l.version}, backend ${tf.getBackend()}`;
      if (backendName === 'wasm') {
        const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
        const mt = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
        target.detail += ` (SIMD ${simd ? 'on' : 'off'}, threads ${mt ? 'on' : 'off: 1 thread in Node'})`;
      } else {
        target.detail += ' (pure JS, 1 thread)';
      }
      return null;
    },
    async activate() {
      await tf.setBackend(backendName);
    },
    makeMlp(optimizer, seed = 7) {
      const [i, h1, h2, o] = MLP.sizes;
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [i], units: h1, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) }),
          tf.layers.dense({ units: h2, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 1 }) }),
          tf.layers.dense({ units: o, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
        ],
      });
      const opt = optimizer === 'adam' ? tf.train.adam(MLP.lr.adam) : tf.train.sgd(MLP.lr.sgd);
      const vars = model.trainableWeights.map((w) => w.read());
      return { model, opt, vars };
    },
    makeData({ batch, x, y }) {
      return {
        x: tf.tensor2d(x, [batch, MLP.sizes[0]]),
        y: tf.oneHot(tf.tensor1d(y, 'int32'), MLP.classes).toFloat(), // one-hot: tfjs's CE takes no int labels
      };
    },
    /**
     * The bench CNN (cases.CNN) as a tf.sequential in tfjs's default NHWC layout: conv2d (valid,
     * ReLU fused as tfjs does), maxPooling2d, flatten, dense. Same FLOP as fathom's NCHW net (with
     * one input channel the input bytes are even identical; only the flatten order differs).
     */
    makeCnn(seed = 11) {
      const [c, h, w] = CNN.input;
      const all = cnnLayers();
      const layers = [];
      all.forEach((l, i) => {
        const first = layers.length === 0 ? { inputShape: [h, w, c] } : {};
        const act = all[i + 1]?.type === 'relu' ? 'relu' : 'linear';
        const kernelInitializer = tf.initializers.heUniform({ seed: seed + 2 * i });
        if (l.type === 'conv') layers.push(tf.layers.conv2d({ ...first, filters: l.out, kernelSize: l.k, activation: act, kernelInitializer }));
        else if (l.type === 'pool') layers.push(tf.layers.maxPooling2d({ ...first, poolSize: l.k }));
        else if (l.type === 'flatten') layers.push(tf.layers.flatten(first));
        else if (l.type === 'linear') layers.push(tf.layers.dense({ ...first, units: l.out, activation: act, kernelInitializer }));
        else if (l.type !== 'relu') throw new Error(`tfjs makeCnn: unknown layer type '${l.type}'`);
      });
      const model = tf.sequential({ layers });
      const opt = tf.train.sgd(CNN.lr);
      const vars = model.trainableWeights.map((v) => v.read());
      return { model, opt, vars };
    },
    makeCnnData({ batch, x, y }) {
      const [c, h, w] = CNN.input;
      return {
        x: tf.tensor4d(x, [batch, h, w, c]), // NHWC; with c = 1 the same bytes as fathom's NCHW
        y: tf.oneHot(tf.tensor1d(y, 'int32'), CNN.classes).toFloat(),
      };
    },
    trainStep({ model, opt, vars }, { x, y }) {
      // minimize = tape, gradients, one optimizer update; tidy frees the intermediates.
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), false, vars);
      });
    },
    infer({ model }, { x }) {
      const out = model.predict(x);
      out.dataSync(); // make sure it is computed and readable, as fathom's is
      out.dispose();
    },
  };
  return target;
}
