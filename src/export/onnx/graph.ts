// A small builder for an ONNX graph: named initializers, nodes with typed attributes, and the graph's
// inputs and outputs with their element types and (partly symbolic) shapes.
import { AttributeType, DataType } from './schema.js';

export type Dim = number | string;
type Attribute = number | string | number[] | string[] | { floats: number[] };

export interface Tensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

const bytesOf = (array: Float32Array | Int32Array | BigInt64Array): Uint8Array =>
  new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength)); // little-endian on every platform Node runs on

export class GraphBuilder {
  readonly nodes: object[] = [];
  readonly initializers: Tensor[] = [];
  readonly inputs: object[] = [];
  readonly outputs: object[] = [];
  private count = 0;

  /** A fresh value name. */
  name(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: DataType.FLOAT, rawData: bytesOf(data) });
    return name;
  }

  int64s(name: string, values: number[]): string {
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: DataType.INT64,
      rawData: bytesOf(BigInt64Array.from(values, BigInt)),
    });
    return name;
  }

  int64Scalar(name: string, value: number): string {
    this.initializers.push({
      name,
      dims: [],
      dataType: DataType.INT64,
      rawData: bytesOf(BigInt64Array.of(BigInt(value))),
    });
    return name;
  }

  /** Adds a node; returns its output names (one fresh name per `outputs` hint, or the names given). */
  node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Attribute> = {}): string[] {
    const attribute = Object.entries(attributes).map(([name, value]) => attributeOf(name, value));
    this.nodes.push({ opType, input: inputs, output: outputs, name: `${opType}_${this.nodes.length}`, attribute });
    return outputs;
  }

  /** One-output node with a fresh output name. */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, Attribute> = {},
    hint = opType.toLowerCase(),
  ): string {
    return this.node(opType, inputs, [this.name(hint)], attributes)[0]!;
  }

  input(name: string, elemType: number, shape: Dim[], doc: string): string {
    this.inputs.push(valueInfo(name, elemType, shape, doc));
    return name;
  }

  output(name: string, elemType: number, shape: Dim[], doc: string): void {
    this.outputs.push(valueInfo(name, elemType, shape, doc));
  }
}

function attributeOf(name: string, value: Attribute): object {
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((s) => new TextEncoder().encode(s)) };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: value };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

function valueInfo(name: string, elemType: number, shape: Dim[], docString: string): object {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, docString, type: { tensorType: { elemType, shape: { dim } } } };
}
