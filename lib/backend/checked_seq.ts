/**
 * The validation specs of the sequence kernels (issue #11): the fused
 * recurrence, index_select / gather and their backward passes, cumsum and
 * where. Part of checked.ts's one table (see its file comment for what every
 * entry checks); split out by concern.
 */
import type { Backend } from './backend.js';
import {
  apart, args, bool, describe, disjoint, f32, fail, i32, ints, product, reach, rnnSizes, selectIndices, selectSizes, shapeSize, size,
} from './validate.js';

type SequenceKernels = 'rnnForward' | 'rnnBackward' | 'indexSelect' | 'indexSelectBackward' | 'gather' | 'gatherBackward' | 'cumsum' | 'whereBroadcast';

/**
 * The check the four index kernels share: sizes, the source (x forward, dy
 * backward), the indices (m of them for indexSelect, one per output value for
 * gather), the destination, no overlap, indices in [0, n). Returns whether
 * there is any work.
 */
function select(
  o: string, a: IArguments, outer: number, n: number, inner: number, m: number,
  src: [string, Float32Array], idx: Int32Array, dst: [string, Float32Array], backward: boolean, idxPerValue: boolean,
): boolean {
  args(o, a, 7);
  const [xl, yl] = selectSizes(o, outer, n, inner, m);
  f32(o, src[0], src[1], backward ? yl : xl);
  i32(o, 'idx', idx, idxPerValue ? yl : m);
  f32(o, dst[0], dst[1], backward ? xl : yl);
  apart(o, dst[0], dst[1], src[0], src[1]);
  apart(o, dst[0], dst[1], 'idx', idx);
  selectIndices(o, idx, n);
  return (backward ? xl : yl) > 0;
}

/** The checked sequence kernels over the unchecked backend k. */
export function sequenceSpecs(k: Backend): Pick<Backend, SequenceKernels> {
  return {
    rnnForward(g, xProj, h0, c0, wHh, bHh, output, hN, cN, ws) {
      const o = 'rnnForward';
      args(o, arguments, 10);
      const z = rnnSizes(o, g);
      const lstm = g.mode === 'lstm';
      f32(o, 'xProj', xProj, z.ntgh);
      f32(o, 'h0', h0, z.nh);
      if (lstm) f32(o, 'c0', c0, z.nh);
      else if (c0 !== null) fail(o, `c0 must be null for mode '${g.mode}', got ${describe(c0)}`);
      f32(o, 'wHh', wHh, z.ghh);
      if (bHh !== null) f32(o, 'bHh', bHh, z.gh);
      f32(o, 'output', output, z.nth);
      f32(o, 'hN', hN, z.nh);
      if (lstm) f32(o, 'cN', cN, z.nh);
      else if (cN !== null) fail(o, `cN must be null for mode '${g.mode}', got ${describe(cN)}`);
      if (ws !== null) f32(o, 'ws', ws, z.ws);
      disjoint(o, [['output', output], ['hN', hN], ['cN', cN], ['ws', ws]],
        [['xProj', xProj], ['h0', h0], ['c0', c0], ['wHh', wHh], ['bHh', bHh]]);
      if (z.nth === 0) return;
      k.rnnForward(g, xProj, h0, c0, wHh, bHh, output, hN, cN, ws);
    },
    rnnBackward(g, wHh, ws, c0, dOutput, dhN, dcN, dxProj, dh0, dc0, dwHh, dbHh) {
      const o = 'rnnBackward';
      args(o, arguments, 12);
      const z = rnnSizes(o, g);
      const lstm = g.mode === 'lstm';
      f32(o, 'wHh', wHh, z.ghh);
      f32(o, 'ws', ws, z.ws);
      for (const [name, v] of [['c0', c0], ['dcN', dcN], ['dc0', dc0]] as const) {
        if (lstm) f32(o, name, v, z.nh);
        else if (v !== null) fail(o, `${name} must be null for mode '${g.mode}', got ${describe(v)}`);
      }
      f32(o, 'dOutput', dOutput, z.nth);
      f32(o, 'dhN', dhN, z.nh);
      f32(o, 'dxProj', dxProj, z.ntgh);
      f32(o, 'dh0', dh0, z.nh);
      f32(o, 'dwHh', dwHh, z.ghh);
      if (dbHh !== null) f32(o, 'dbHh', dbHh, z.gh);
      disjoint(o, [['dxProj', dxProj], ['dh0', dh0], ['dc0', dc0], ['dwHh', dwHh], ['dbHh', dbHh]],
        [['wHh', wHh], ['ws', ws], ['c0', c0], ['dOutput', dOutput], ['dhN', dhN], ['dcN', dcN]]);
      if (z.ghh === 0) return;
      if (z.nth === 0) { dxProj.fill(0); dh0.set(dhN); if (dc0) dc0.set(dcN!); dwHh.fill(0); if (dbHh) dbHh.fill(0); return; }
      k.rnnBackward(g, wHh, ws, c0, dOutput, dhN, dcN, dxProj, dh0, dc0, dwHh, dbHh);
    },
    indexSelect(outer, n, inner, x, idx, m, y) {
      if (select('indexSelect', arguments, outer, n, inner, m, ['x', x], idx, ['y', y], false, false)) k.indexSelect(outer, n, inner, x, idx, m, y);
    },
    indexSelectBackward(outer, n, inner, dy, idx, m, dx) {
      if (select('indexSelectBackward', arguments, outer, n, inner, m, ['dy', dy], idx, ['dx', dx], true, false)) k.indexSelectBackward(outer, n, inner, dy, idx, m, dx);
    },
    gather(outer, n, inner, x, idx, m, y) {
      if (select('gather', arguments, outer, n, inner, m, ['x', x], idx, ['y', y], false, true)) k.gather(outer, n, inner, x, idx, m, y);
    },
    gatherBackward(outer, n, inner, dy, idx, m, dx) {
      if (select('gatherBackward', arguments, outer, n, inner, m, ['dy', dy], idx, ['dx', dx], true, true)) k.gatherBackward(outer, n, inner, dy, idx, m, dx);
    },
    cumsum(outer, n, inner, x, reverse, y) {
      const o = 'cumsum';
      args(o, arguments, 6);
      const len = product(o, 'outer * n * inner', product(o, 'outer * n', size(o, 'outer', outer), size(o, 'n', n)), size(o, 'inner', inner));
      f32(o, 'x', x, len);
      bool(o, 'reverse', reverse);
      f32(o, 'y', y, len);
      apart(o, 'y', y, 'x', x);
      if (len === 0) return;
      k.cumsum(outer, n, inner, x, reverse, y);
    },
    whereBroadcast(shape, c, cs, x, xs, y, ys, out) {
      const o = 'whereBroadcast';
      args(o, arguments, 8);
      ints(o, 'shape', shape);
      ints(o, 'condStrides', cs);
      ints(o, 'aStrides', xs);
      ints(o, 'bStrides', ys);
      if (cs.length !== shape.length || xs.length !== shape.length || ys.length !== shape.length) {
        fail(o, `shape, condStrides, aStrides and bStrides must have the same length, got ${shape.length}, ${cs.length}, ${xs.length}, ${ys.length}`);
      }
      const n = shapeSize(o, shape);
      f32(o, 'cond', c);
      f32(o, 'a', x);
      f32(o, 'b', y);
      f32(o, 'out', out, n);
      const cr = reach(o, 'condStrides', shape, cs), ar = reach(o, 'aStrides', shape, xs), br = reach(o, 'bStrides', shape, ys);
      if (n > 0 && (cr >= c.length || ar >= x.length || br >= y.length)) {
        fail(o, `strides reach past the operands: cond needs ${cr + 1} values (has ${c.length}), a needs ${ar + 1} (has ${x.length}), b needs ${br + 1} (has ${y.length})`);
      }
      apart(o, 'out', out, 'cond', c);
      apart(o, 'out', out, 'a', x);
      apart(o, 'out', out, 'b', y);
      if (n === 0) return;
      k.whereBroadcast(shape, c, cs, x, xs, y, ys, out);
    },
  };
}
