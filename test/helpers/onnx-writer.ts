/**
 * A minimal ONNX protobuf writer for tests: enough of ModelProto / GraphProto / NodeProto / TensorProto /
 * ValueInfoProto / AttributeProto to build small models (opset 13) from JavaScript, so tests can exercise real
 * onnxruntime sessions without shipping model files.
 *
 * Field numbers follow onnx/onnx.proto3. Protobuf wire format: each field is a varint key (field << 3 | wire type);
 * wire type 0 = varint, 2 = length-delimited (strings, bytes, sub-messages, packed repeated), 5 = 32-bit.
 */

/** ONNX tensor element types used here (TensorProto.DataType). */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

/** A dimension: a number, or a symbolic name. */
export type Dim = number | string;

/** A graph input or output. */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: Dim[];
}

/** A constant tensor (initializer). */
export interface TensorInit {
  name: string;
  dims: number[];
  /** float32 data (elemType FLOAT) or int64 data (INT64) as numbers. */
  data: Float32Array | number[];
  elemType?: number;
}

/** An attribute of a node. */
export type Attribute = { name: string; ints: number[] } | { name: string; int: number } | { name: string; float: number };

/** A node of the graph. */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Attribute[];
}

/** A whole graph. */
export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: TensorInit[];
  opset?: number;
}

class Writer {
  private chunks: Buffer[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    while (v >= 0x80n) {
      bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    bytes.push(Number(v));
    this.chunks.push(Buffer.from(bytes));
    return this;
  }

  key(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    return this.key(field, 0).varint(value);
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length);
    this.chunks.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  float(field: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeFloatLE(value);
    this.key(field, 5);
    this.chunks.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeTensor(w: Writer, t: TensorInit): void {
  for (const d of t.dims) w.int(1, d);
  const elemType = t.elemType ?? (t.data instanceof Float32Array ? DataType.FLOAT : DataType.INT64);
  w.int(2, elemType);
  w.string(8, t.name);
  let raw: Buffer;
  if (elemType === DataType.FLOAT) {
    const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    raw = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  } else if (elemType === DataType.INT64) {
    const i = BigInt64Array.from(Array.from(t.data as ArrayLike<number>), (v) => BigInt(v));
    raw = Buffer.from(i.buffer);
  } else {
    throw new Error(`writeTensor: unsupported element type ${elemType}`);
  }
  w.bytes(9, raw);
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
}

function writeAttribute(w: Writer, a: Attribute): void {
  w.string(1, a.name);
  if ('ints' in a) {
    for (const i of a.ints) w.int(8, i);
    w.int(20, 7); // INTS
  } else if ('int' in a) {
    w.int(3, a.int);
    w.int(20, 2); // INT
  } else {
    w.float(2, a.float);
    w.int(20, 1); // FLOAT
  }
}

/** Serialise a graph as an ONNX ModelProto (IR version 8, default-domain opset 13 unless given). */
export function encodeModel(graph: GraphSpec): Buffer {
  const w = new Writer();
  w.int(1, 8); // ir_version
  w.string(2, 'scenescope-test');
  w.message(7, (g) => {
    graph.nodes.forEach((n, index) =>
      g.message(1, (node) => {
        for (const i of n.inputs) node.string(1, i);
        for (const o of n.outputs) node.string(2, o);
        node.string(3, n.name ?? `${n.op}_${index}`);
        node.string(4, n.op);
        for (const a of n.attributes ?? []) node.message(5, (attr) => writeAttribute(attr, a));
      }),
    );
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (tensor) => writeTensor(tensor, t));
    for (const v of graph.inputs) g.message(11, (vi) => writeValueInfo(vi, v));
    for (const v of graph.outputs) g.message(12, (vi) => writeValueInfo(vi, v));
  });
  w.message(8, (op) => {
    op.string(1, '');
    op.int(2, graph.opset ?? 13);
  });
  return w.finish();
}

/** A seeded pseudo-random generator (mulberry32) so that "random" weights are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** float32 values uniform in [-scale, scale). */
export function randomWeights(count: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}
