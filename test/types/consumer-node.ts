// Compiled with @types/node only (test/types/tsconfig.json): what a Node user writes with Node's own types.
import { data, load, nn, save } from 'fathom';

export async function withUrls(model: nn.Module): Promise<nn.Module> {
  await save(model, new URL('./model.safetensors', import.meta.url)); // a WHATWG URL is a path argument
  const idx = await data.readIdx(new URL('file:///tmp/labels-idx1-ubyte'));
  void idx.shape;
  // @ts-expect-error a Buffer is not a path
  await save(model, Buffer.from('m.safetensors'));
  return load(new URL('file:///tmp/model.safetensors'));
}

// #13: predictAsync and BatchingPredictor.predict take an AbortSignal (Node's own type).
export async function cancellable(model: nn.Module, x: import('fathom').Tensor): Promise<number> {
  const ac = new AbortController();
  const y = await model.predictAsync(x, { signal: ac.signal });
  return y.size;
}
